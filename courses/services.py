"""Writes for learners: marking lessons complete, completing courses, starting refreshers.

The server is the only judge of progress: every rule is checked here, and a request that
breaks one changes nothing and raises CompletionRefused with a message for the officer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from courses.models import (
    CheckAnswer,
    CoursePage,
    Enrolment,
    LessonCompletion,
    LessonPage,
    LessonVisit,
)
from courses.rules import (
    AnswerProblem,
    CourseOutline,
    check_answer_read,
    course_complete,
    course_withheld,
    unanswered_checks,
    unpassed_scenarios,
)
from courses.selectors import (
    STEP,
    assessment_passed,
    check_answers_in_run,
    check_seed,
    course_outline,
    jurisdiction_unknown_message,
    lesson_check_questions,
    passes_counted,
)
from courses.signals import course_completed
from officers.models import User
from officers.selectors import officer_jurisdiction


class CompletionRefused(Exception):
    """`back_to_lesson`: the officer can put it right on the lesson page (unfinished checks or
    scenario), so the view sends them there with the message instead of a dead end."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 409,
        back_to_lesson: bool = False,
        already_done: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.back_to_lesson = back_to_lesson
        # The lesson was already marked complete: nothing to refuse the officer, who can go on.
        self.already_done = already_done


@dataclass(frozen=True)
class LessonResult:
    lesson: LessonPage
    course: CoursePage
    enrolment: Enrolment
    course_completed: bool


SERVICE_NUMBER_MESSAGE = gettext_lazy(
    "Your certificate carries your service number, and your profile has none. Ask your "
    "training lead or an administrator to add it; then you can complete the course."
)


def service_number_missing(user: User) -> bool:
    """Nobody is certified under an email address alone: completing a course (which issues the
    certificate) needs the officer's service number. Learners give it on first sign-in
    (officers.middleware); this also holds for staff and any other path."""
    officer = getattr(user, "officer", None)
    return officer is None or not (officer.service_number or "").strip()


def _live_course_of(lesson: LessonPage) -> CoursePage | None:
    return CoursePage.objects.live().filter(path=lesson.path[: -2 * STEP]).first()


def _officer_outline(user: User, course: CoursePage) -> CourseOutline:
    """The course's outline for the officer's jurisdiction; refused with the reason when their
    jurisdiction is unknown and the course has jurisdiction-specific parts."""
    outline = course_outline(course, jurisdiction=officer_jurisdiction(user))
    if outline.jurisdiction_unknown:
        raise CompletionRefused(jurisdiction_unknown_message())
    return outline


def lesson_mark_complete(*, user: User, lesson_id: int) -> LessonResult:
    """Record that the officer finished a lesson of their outline; complete the course if that
    was the last."""
    lesson = LessonPage.objects.live().filter(pk=lesson_id).first()
    course = _live_course_of(lesson) if lesson else None
    outline = _officer_outline(user, course) if course else None
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
                ),
                already_done=True,
            )
        existing = LessonCompletion.objects.filter(enrolment=enrolment, lesson=lesson).first()
        if existing is not None:
            when = date_format(timezone.localtime(existing.completed_at), "j F Y, H:i")
            raise CompletionRefused(
                _("You already marked this lesson complete (%(when)s). Nothing was changed.")
                % {"when": when},
                already_done=True,
            )
        passed = passes_counted(user, outline, enrolment)
        if unpassed_scenarios(ref, passed):
            raise CompletionRefused(
                _("Pass the scenario in this lesson before you mark it complete."),
                back_to_lesson=True,
            )
        questions = lesson_check_questions(lesson)
        if questions:
            left = unanswered_checks(
                [q.id for q in questions], check_answers_in_run(enrolment, lesson.pk).correct
            )
            if left:
                raise CompletionRefused(
                    ngettext(
                        "Answer the check question in this lesson correctly before you mark "
                        "it complete: %(n)s question is still to answer.",
                        "Answer the check questions in this lesson correctly before you mark "
                        "it complete: %(n)s questions are still to answer.",
                        len(left),
                    )
                    % {"n": len(left)},
                    back_to_lesson=True,
                )
        done = set(enrolment.lesson_completions.values_list("lesson_id", flat=True))
        finishing = course_complete(
            outline, done | {lesson.pk}, passed, assessment_passed=assessment_passed(enrolment)
        )
        if finishing and service_number_missing(user):
            raise CompletionRefused(str(SERVICE_NUMBER_MESSAGE), back_to_lesson=True)
        now = timezone.now()
        try:
            with transaction.atomic():
                LessonCompletion.objects.create(
                    enrolment=enrolment,
                    lesson=lesson,
                    completed_at=now,
                    seconds_spent=_lesson_seconds(
                        user=user, lesson=lesson, enrolment=enrolment, now=now
                    ),
                )
        except IntegrityError as exc:  # the same lesson completed by a parallel request
            raise CompletionRefused(
                _("You already marked this lesson complete. Nothing was changed."),
                already_done=True,
            ) from exc
        finished = finishing
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
            # A first run keeps the option order the officer saw before it started.
            return Enrolment.objects.create(
                user=user, course=course, order_seed=check_seed(user, None)
            )
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
    if course is None or course_withheld(course.jurisdiction, officer_jurisdiction(user)):
        raise CompletionRefused(_("This course is not available."), status=404)
    _officer_outline(user, course)
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
                    # A first run keeps the option order the officer saw before it started;
                    # a refresher gets a new random one (the field's default).
                    **({} if latest else {"order_seed": check_seed(user, None)}),
                )
        except IntegrityError as exc:
            raise CompletionRefused(_("You have already started this course.")) from exc


# --- Time on lessons ------------------------------------------------------------------------


def _seconds_between(start: datetime | None, end: datetime) -> int | None:
    return max(0, int((end - start).total_seconds())) if start is not None else None


def _lesson_seconds(*, user: User, lesson: LessonPage, enrolment: Enrolment, now: datetime) -> int:
    """Time spent on the lesson: from opening it, or from the officer's previous completion in
    this run if that came later (opening several lessons at once and completing them in a row
    counts the time between completions, not the time since they were all opened). A lesson
    completed without its page ever being opened counts 0 seconds, so it is flagged."""
    opened = _visit_opened_at(user=user, lesson=lesson)
    if opened is None:
        return 0
    previous = (
        LessonCompletion.objects.filter(enrolment=enrolment)
        .aggregate(last=Max("completed_at"))
        .get("last")
    )
    since = max(opened, previous) if previous is not None else opened
    return _seconds_between(since, now) or 0


def _visit_opened_at(*, user: User, lesson: LessonPage) -> datetime | None:
    return (
        LessonVisit.objects.filter(user=user, lesson=lesson)
        .values_list("opened_at", flat=True)
        .first()
    )


def lesson_visit_record(*, user: User, lesson: LessonPage, enrolment: Enrolment | None) -> None:
    """Note when the officer opened the lesson: the start of their time on it.

    One query when the visit exists and is current. The visit is reset to now when it predates
    the start of the officer's current refresher (an open enrolment that follows a completed
    run): time on the previous run does not count. A first run's enrolment is created by the
    first answer or completion, after the officer opened the lesson, so it never resets it.
    """
    if not user.is_authenticated:
        return
    visit = LessonVisit.objects.filter(user=user, lesson=lesson).first()
    now = timezone.now()
    if visit is None:
        # One statement, no savepoint: a visit made by a parallel request a moment ago stays
        # (the unique constraint on officer and lesson turns this one into nothing).
        LessonVisit.objects.bulk_create(
            [LessonVisit(user=user, lesson=lesson, opened_at=now)], ignore_conflicts=True
        )
        return
    refresher = (
        enrolment is not None
        and not enrolment.is_complete
        and enrolment.passes_count_after is not None
    )
    if refresher and visit.opened_at < enrolment.started_at:
        LessonVisit.objects.filter(pk=visit.pk, opened_at=visit.opened_at).update(opened_at=now)


# --- Check questions ------------------------------------------------------------------------


class CheckRefused(Exception):
    """An answer that was not recorded, with the message to show; `question` is the question's
    block id when the message belongs at that question."""

    def __init__(self, message: str, *, question: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.question = question
        self.status = status


@dataclass(frozen=True)
class CheckResult:
    lesson: LessonPage
    question: str
    chosen: tuple[str, ...]
    correct: bool
    # False on a completed course: the officer may practise, nothing is recorded.
    recorded: bool


def lesson_live_in_course(lesson_id: int, *, user: User) -> tuple[LessonPage, CoursePage] | None:
    """The lesson, if it is live in the officer's outline of a live course."""
    lesson = LessonPage.objects.live().filter(pk=lesson_id).first()
    course = _live_course_of(lesson) if lesson else None
    if lesson is None or course is None:
        return None
    outline = course_outline(course, jurisdiction=officer_jurisdiction(user))
    if not any(ref.id == lesson.pk for ref in outline.lessons):
        return None
    return lesson, course


def check_answer_record(
    *, user: User, lesson_id: int, question_id: str, chosen: list[str]
) -> CheckResult:
    """Check and record an answer to one of a lesson's check questions.

    Correct means exactly the set of correct options. Every try is kept, in the officer's
    open run of the course (created as marking a lesson complete creates it). On a completed
    course the answer is checked but not recorded. Anything wrong raises CheckRefused and
    changes nothing.
    """
    found = lesson_live_in_course(lesson_id, user=user)
    if found is None:
        raise CheckRefused(_("This lesson is not available."), status=404)
    lesson, course = found
    question = next((q for q in lesson_check_questions(lesson) if q.id == question_id), None)
    if question is None:
        raise CheckRefused(
            _("That question is not in this lesson. Nothing was recorded: answer it again.")
        )
    picked, problem = check_answer_read(question, chosen)
    if problem is not None or picked is None:
        problem = problem or AnswerProblem.EMPTY
        if problem is AnswerProblem.EMPTY and question.multiple:
            message = _("Choose at least one answer, then select “Check answer”.")
        else:
            message = _ANSWER_PROBLEMS[problem]()
        raise CheckRefused(message, question=question.id)
    correct = set(picked) == question.correct_ids
    with transaction.atomic():
        enrolment = _open_enrolment(user=user, course=course)
        if enrolment is None:
            return CheckResult(lesson, question.id, tuple(picked), correct, recorded=False)
        now = timezone.now()
        previous = (
            CheckAnswer.objects.filter(enrolment=enrolment, lesson=lesson)
            .order_by("-answered_at", "-pk")
            .values_list("answered_at", flat=True)
            .first()
        )
        since = previous or _visit_opened_at(user=user, lesson=lesson)
        CheckAnswer.objects.create(
            enrolment=enrolment,
            lesson=lesson,
            question=question.id,
            chosen=picked,
            correct=correct,
            answered_at=now,
            seconds=_seconds_between(since, now),
        )
    return CheckResult(lesson, question.id, tuple(picked), correct, recorded=True)


_ANSWER_PROBLEMS = {
    AnswerProblem.EMPTY: lambda: _("Choose an answer, then select “Check answer”."),
    AnswerProblem.UNKNOWN: lambda: _(
        "That answer is not one of this question’s options. Nothing was recorded: choose again."
    ),
    AnswerProblem.TOO_MANY: lambda: _(
        "Choose one answer only for this question. Nothing was recorded."
    ),
}
