"""Background work (Django's Tasks API; run by `python manage.py db_worker`)."""

from django_tasks import task

from certificates.rendering import certificate_render


@task()
def render_certificate(certificate_id: int) -> None:
    certificate_render(certificate_id)
