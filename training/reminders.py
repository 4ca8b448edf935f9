"""Email reminders: assignment made, due in 7 days, overdue, certificate expiring.

`send_reminders()` is safe to run every few minutes, and two copies at once: each reminder is
recorded (a row with a unique constraint) in the same transaction that queues its email in the
outbox (officers.outbox), so there is at most one per officer, assignment (or certificate) and
kind, and a reminder recorded always has its email. The run only records and queues; the task
worker sends, retries a mail server that is down and records a refused address as failed, one
message at a time, so no address and no outage can stop the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from certificates.models import Certificate
from officers.links import absolute_url
from officers.outbox import email_queue, one_line, outbox_counts, outbox_flush
from training.assignments import refresher_assignments_sync
from training.models import Assignment, Reminder

DUE_SOON_DAYS = 7


@dataclass
class ReminderRun:
    # Reminders made by this run, by kind: each recorded with its email queued in the outbox.
    sent: dict[str, int] = field(default_factory=dict)
    refreshers_assigned: int = 0
    retried: int = 0  # outbox messages handed to the worker again (due retries, dead workers)
    waiting: int = 0  # outbox messages queued or being sent, after this run
    failed: int = 0  # outbox messages that failed in the last seven days

    def summary(self) -> str:
        parts = [f"{kind}: {n}" for kind, n in sorted(self.sent.items())]
        return (
            f"Refresher assignments made: {self.refreshers_assigned}. "
            f"Reminders queued: {', '.join(parts) if parts else 'none'}. "
            f"Outbox: {self.waiting} waiting, {self.failed} failed in the last 7 days"
            f"{f', {self.retried} handed to the worker again' if self.retried else ''}."
        )


def _queue_once(*, kind: str, user, assignment=None, certificate=None, context: dict) -> bool:  # noqa: ANN001
    """Record the reminder and queue its email, together or not at all. False if it exists."""
    subject = one_line(render_to_string(f"training/email/{kind}_subject.txt", context))
    body = render_to_string(f"training/email/{kind}.txt", context)
    about = f"assignment:{assignment.pk}" if assignment else f"certificate:{certificate.pk}"
    try:
        with transaction.atomic():
            # The reminder first: its unique constraint is what makes it once, and a parallel
            # run waits here for ours to commit, then gets the IntegrityError.
            reminder = Reminder.objects.create(
                user=user,
                kind=kind,
                assignment=assignment,
                certificate=certificate,
                subject=subject,
            )
            reminder.outgoing_email = email_queue(
                to=user.email,
                subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
                body=body,
                key=f"reminder:{kind}:{about}",
            )
            reminder.save(update_fields=["outgoing_email"])
    except IntegrityError:  # made already, perhaps by a run happening at the same moment
        return False
    return True


def _assignment_context(assignment: Assignment) -> dict:
    return {
        "user": assignment.user,
        "course": assignment.course,
        "due_on": assignment.due_on,
        "url": absolute_url(f"/learning/courses/{assignment.course_id}/continue/"),
        "refresher": assignment.kind == Assignment.Kind.REFRESHER,
    }


def send_reminders(*, today: date | None = None) -> ReminderRun:
    """Assign due refreshers, record every reminder that is due with its email queued, and
    hand the outbox's due retries to the task worker. Sends nothing itself."""
    today = today or timezone.localdate()
    run = ReminderRun(refreshers_assigned=refresher_assignments_sync(today))
    # Never a reminder for a course limited to another jurisdiction than the officer's.
    open_assignments = (
        Assignment.objects.applying()
        .filter(current=True, completed_at__isnull=True, user__is_active=True, course__live=True)
        .select_related("user", "course")
    )
    batches = {
        Reminder.Kind.ASSIGNED: open_assignments.filter(due_on__gte=today),
        Reminder.Kind.DUE_SOON: open_assignments.filter(
            due_on__gte=today, due_on__lte=today + timedelta(days=DUE_SOON_DAYS)
        ),
        Reminder.Kind.OVERDUE: open_assignments.filter(due_on__lt=today),
    }
    for kind, assignments in batches.items():
        for assignment in assignments.exclude(reminders__kind=kind).iterator(chunk_size=500):
            if _queue_once(
                kind=kind,
                user=assignment.user,
                assignment=assignment,
                context=_assignment_context(assignment),
            ):
                run.sent[kind] = run.sent.get(kind, 0) + 1
    expiring = (
        Certificate.objects.expiring(on=today)
        .filter(user__is_active=True)
        .exclude(reminders__kind=Reminder.Kind.EXPIRING)
        .select_related("user")
    )
    for certificate in expiring.iterator(chunk_size=500):
        context = {
            "user": certificate.user,
            "certificate": certificate,
            "url": absolute_url(f"/learning/courses/{certificate.course_id}/continue/"),
        }
        if _queue_once(
            kind=Reminder.Kind.EXPIRING,
            user=certificate.user,
            certificate=certificate,
            context=context,
        ):
            run.sent[Reminder.Kind.EXPIRING] = run.sent.get(Reminder.Kind.EXPIRING, 0) + 1
    run.retried = outbox_flush()
    counts = outbox_counts()
    run.waiting, run.failed = counts["waiting"], counts["failed"]
    return run
