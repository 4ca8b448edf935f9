"""Email reminders: assignment made, due in 7 days, overdue, certificate expiring.

`send_reminders()` is safe to run every few minutes, and two copies at once: each reminder is
recorded (a row with a unique constraint) in the same transaction that sends it, so it goes
out at most once per officer, assignment (or certificate) and kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from certificates.models import Certificate
from officers.links import absolute_url
from training.assignments import refresher_assignments_sync
from training.models import Assignment, Reminder

DUE_SOON_DAYS = 7


@dataclass
class ReminderRun:
    sent: dict[str, int] = field(default_factory=dict)
    refreshers_assigned: int = 0

    def summary(self) -> str:
        parts = [f"{kind}: {n}" for kind, n in sorted(self.sent.items())]
        return (
            f"Refresher assignments made: {self.refreshers_assigned}. "
            f"Reminders sent: {', '.join(parts) if parts else 'none'}."
        )


def _send_once(*, kind: str, user, assignment=None, certificate=None, context: dict) -> bool:  # noqa: ANN001
    subject = render_to_string(f"training/email/{kind}_subject.txt", context).strip()
    body = render_to_string(f"training/email/{kind}.txt", context)
    try:
        with transaction.atomic():
            Reminder.objects.create(
                user=user,
                kind=kind,
                assignment=assignment,
                certificate=certificate,
                subject=subject[:255],
            )
            send_mail(f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}", body, None, [user.email])
    except IntegrityError:  # already sent, perhaps by a run happening at the same moment
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
    today = today or timezone.localdate()
    run = ReminderRun(refreshers_assigned=refresher_assignments_sync(today))
    open_assignments = Assignment.objects.filter(
        current=True, completed_at__isnull=True, user__is_active=True, course__live=True
    ).select_related("user", "course")
    batches = {
        Reminder.Kind.ASSIGNED: open_assignments.filter(due_on__gte=today),
        Reminder.Kind.DUE_SOON: open_assignments.filter(
            due_on__gte=today, due_on__lte=today + timedelta(days=DUE_SOON_DAYS)
        ),
        Reminder.Kind.OVERDUE: open_assignments.filter(due_on__lt=today),
    }
    for kind, assignments in batches.items():
        for assignment in assignments.exclude(reminders__kind=kind).iterator(chunk_size=500):
            if _send_once(
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
        if _send_once(
            kind=Reminder.Kind.EXPIRING,
            user=certificate.user,
            certificate=certificate,
            context=context,
        ):
            run.sent[Reminder.Kind.EXPIRING] = run.sent.get(Reminder.Kind.EXPIRING, 0) + 1
    return run
