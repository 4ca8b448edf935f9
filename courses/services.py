"""Writes for learners: marking lessons complete, completing courses, starting refreshers.

The server is the only judge of progress: every rule is checked here, and a request that
breaks one changes nothing and raises CompletionRefused with a message for the officer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from courses.models import CoursePage, Enrolment, LessonCompletion, LessonPage
from courses.rules import course_complete, unpassed_scenarios
from courses.selectors import STEP, assessment_passed, course_outline, passes_counted
from courses.signals import course_completed
from officers.models import User


class CompletionRefused(Exception):
    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class LessonResult:
    lesson: LessonPage
    course: CoursePage
    enrolment: Enrolment
    course_completed: bool


def _live_course_of(lesson: LessonPage) -> CoursePage | None:
    return CoursePage.objects.live().filter(path=lesson.path[: -2 * STEP]).first()


def lesson_mark_complete(*, user: User, lesson_id: int) -> LessonResult:
    """Record that the officer finished a lesson; complete the course if that was the last."""
    lesson = LessonPage.objects.live().filter(pk=lesson_id).first()
    course = _live_course_of(lesson) if lesson else None
    outline = course_outline(course) if course else None
    ref = next((r for r in outline.lessons if r.id == lesson_id), None) if outline else None
    if lesson is None or course is None or outline is None or ref is None:
        raise CompletionRefused(_("This lesson is not available."), status=404)

    with transaction.atomic():
        enrolment = _open_enrolment(user=user, course=course)
        if enrolment is None:
            raise CompletionRefused(
                _(
                    "You have already completed this course. Start it again from the course "
                    "page if you want to refresh it."
                )
            )
        existing = LessonCompletion.objects.filter(enrolment=enrolment, lesson=lesson).first()
        if existing is not None:
            when = date_format(timezone.localtime(existing.completed_at), "j F Y, H:i")
            raise CompletionRefused(
                _("You already marked this lesson complete (%(when)s). Nothing was changed.")
                % {"when": when}
            )
        passed = passes_counted(user, outline, enrolment)
        if unpassed_scenarios(ref, passed):
            raise CompletionRefused(
                _("Pass the scenario in this lesson before you mark it complete.")
            )
        try:
            with transaction.atomic():
                LessonCompletion.objects.create(enrolment=enrolment, lesson=lesson)
        except IntegrityError as exc:  # the same lesson completed by a parallel request
            raise CompletionRefused(
                _("You already marked this lesson complete. Nothing was changed.")
            ) from exc
        done = set(enrolment.lesson_completions.values_list("lesson_id", flat=True))
        finished = course_complete(
            outline, done, passed, assessment_passed=assessment_passed(enrolment)
        )
        if finished:
            enrolment_complete(enrolment=enrolment, course=course)
    return LessonResult(
        lesson=lesson, course=course, enrolment=enrolment, course_completed=finished
    )


def _open_enrolment(*, user: User, course: CoursePage) -> Enrolment | None:
    """The officer's open enrolment, locked for this transaction; created on first use.

    Returns None when the officer's latest enrolment on the course is already complete.
    """
    latest = (
        Enrolment.objects.select_for_update()
        .filter(user=user, course=course)
        .order_by("-started_at")
        .first()
    )
    if latest is not None:
        return None if latest.is_complete else latest
    try:
        with transaction.atomic():
            return Enrolment.objects.create(user=user, course=course)
    except IntegrityError:  # created by a parallel request a moment ago
        return Enrolment.objects.select_for_update().get(
            user=user, course=course, completed_at__isnull=True
        )


def enrolment_complete(*, enrolment: Enrolment, course: CoursePage) -> None:
    """Record the completion (time and course revision) and send `course_completed` once."""
    locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if locked.completed_at is not None:
        return
    locked.completed_at = timezone.now()
    locked.completed_revision_id = course.live_revision_id
    locked.save(update_fields=["completed_at", "completed_revision"])
    enrolment.completed_at = locked.completed_at
    enrolment.completed_revision_id = locked.completed_revision_id
    course_completed.send(sender=Enrolment, enrolment=locked)


def enrolment_start(*, user: User, course_id: int) -> Enrolment:
    """Start a course, or start it again (a refresher) once the last run is complete."""
    course = CoursePage.objects.live().filter(pk=course_id).first()
    if course is None:
        raise CompletionRefused(_("This course is not available."), status=404)
    with transaction.atomic():
        latest = (
            Enrolment.objects.select_for_update()
            .filter(user=user, course=course)
            .order_by("-started_at")
            .first()
        )
        if latest is not None and not latest.is_complete:
            raise CompletionRefused(_("You have already started this course."))
        try:
            with transaction.atomic():
                return Enrolment.objects.create(
                    user=user,
                    course=course,
                    passes_count_after=latest.completed_at if latest else None,
                )
        except IntegrityError as exc:
            raise CompletionRefused(_("You have already started this course.")) from exc
