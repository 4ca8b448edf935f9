"""Background work (Django's Tasks API; run by `python manage.py db_worker`)."""

from django_tasks import task


@task()
def render_certificate(certificate_id: int) -> None:
    from certificates.services import certificate_render

    certificate_render(certificate_id)
