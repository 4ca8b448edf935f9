"""Background work (Django's Tasks API; run by `python manage.py db_worker`)."""

from django_tasks import task

from officers.import_jobs import import_job_apply, import_job_preview
from officers.imports import officers_invite
from officers.outbox import email_send


@task()
def send_email(email_id: int) -> str | None:
    """Send one message from the outbox (officers.outbox.email_send)."""
    return email_send(email_id)


@task()
def invite_officers(user_ids: list[int]) -> int:
    """Queue the invitations of officers an import created (officers.imports)."""
    return officers_invite(user_ids)


@task()
def preview_officer_import(job_id: int) -> None:
    """Read an uploaded HR file and work out what importing it would do."""
    import_job_preview(job_id)


@task()
def apply_officer_import(job_id: int) -> None:
    """Apply a confirmed import, all rows or none."""
    import_job_apply(job_id)
