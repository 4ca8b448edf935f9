"""Demo history for the demo lead's units (used by seed_demo): assignments, progress, scenario
attempts and reminders sent. Runs once."""

from __future__ import annotations

from datetime import timedelta

from django.test.utils import override_settings
from django.utils import timezone

from courses.models import CoursePage, Enrolment, LessonCompletion, LessonPage
from officers.models import User
from scenarios.selectors import attempt_options
from scenarios.services import attempt_choose, attempt_start
from training.assignments import _assign, _profiles
from training.models import AssignmentRule
from training.reminders import send_reminders


def seed_demo_training(*, main: CoursePage, refresher: CoursePage, lead_email: str) -> int:
    """The demo lead's units get history: assignments, progress (done, in progress, overdue,
    expiring), scenario attempts and sent reminders. Runs once; returns assignments made."""
    lead = User.objects.get(email=lead_email)
    if AssignmentRule.objects.filter(created_by=lead).exists():
        return 0
    today = timezone.localdate()
    north, intake = list(lead.officer.led_units.order_by("path"))[:2]
    made = 0
    rules = [
        (main, north, today + timedelta(days=45), None),
        (refresher, north, today - timedelta(days=10), None),  # already overdue for some
        (main, intake, None, 28),
    ]
    for course, unit, due_date, due_days in rules:
        rule = AssignmentRule.objects.create(
            course=course, unit=unit, due_date=due_date, due_days=due_days, created_by=lead
        )
        made += _assign(course=course, profiles=_profiles(unit=unit), rule=rule)

    # Some officers in North part-way through the main course, one with scenario attempts.
    lessons = list(LessonPage.objects.live().descendant_of(main).order_by("path"))
    in_progress = User.objects.filter(
        officer__unit__path__startswith=north.path, enrolments__isnull=True
    ).order_by("email")[:4]
    for n, user in enumerate(in_progress):
        enrolment = Enrolment.objects.create(user=user, course=main)
        for lesson in lessons[: 2 + 2 * n]:
            if not lesson.scenario_ids:
                LessonCompletion.objects.create(enrolment=enrolment, lesson=lesson)
        for lesson in lessons[: 2 + 2 * n]:
            for scenario_id in lesson.scenario_ids:
                attempt = attempt_start(user=user, scenario_id=scenario_id, lesson_id=lesson.pk)
                first_shown = attempt_options(attempt=attempt)[0]
                attempt_choose(
                    user=user,
                    attempt_id=attempt.pk,
                    step=attempt.current_step,
                    choice=first_shown.id,
                )
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        send_reminders()
    return made
