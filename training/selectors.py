"""Reads for the learner's "My learning" page, composed from every app below training."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from certificates.selectors import own_certificates
from courses.models import CoursePage
from courses.selectors import courses_open_to, enrolments_summary
from officers.models import User
from training.models import Assignment, Reminder

RECENT_REMINDERS = 10


def my_learning(user: User) -> dict[str, Any]:
    """Courses in progress and completed, open assignments by due date (overdue marked),
    certificates, recent reminders, and the courses not yet started; bounded queries."""
    context = enrolments_summary(user)
    today = timezone.localdate()
    context["certificates"] = own_certificates(user)
    # Only what applies to the officer's jurisdiction now (an officer who moved force is not
    # asked for the other jurisdiction's course; the assignment is kept).
    context["assigned"] = [
        {"assignment": a, "overdue": a.due_on < today}
        for a in Assignment.objects.applying()
        .filter(user=user, current=True, completed_at__isnull=True, course__live=True)
        .select_related("course")
        .order_by("due_on")
    ]
    context["reminders"] = Reminder.objects.filter(user=user).order_by("-sent_at")[
        :RECENT_REMINDERS
    ]
    context["available"] = courses_open_to(user, CoursePage.objects.live()).exclude(
        pk__in=list(context["latest"])
    )
    return context
