"""Background work (Django's Tasks API; run by `python manage.py db_worker`)."""

from django_tasks import task

from officers.outbox import email_send


@task()
def send_email(email_id: int) -> str | None:
    """Send one message from the outbox (officers.outbox.email_send)."""
    return email_send(email_id)
