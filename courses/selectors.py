"""Reads for learners: outlines, progress, and the context of each learner page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from wagtail.models import Page

from courses.models import (
    AssessmentAttempt,
    CheckAnswer,
    CoursePage,
    Enrolment,
    LessonCompletion,
    LessonPage,
    ModulePage,
)
from courses.rules import (
    CheckOption,
    CheckQuestion,
    CourseOutline,
    LessonRef,
    ModuleRef,
    Progress,
    check_option_order,
    counted_passes,
    course_progress,
    lesson_complete,
    module_complete,
    unanswered_checks,
    unpassed_scenarios,
)
from officers.models import User
from scenarios.selectors import attempts_by_scenario, last_passes

STEP = Page.steplen


def outlines_for(courses: Iterable[CoursePage]) -> dict[int, CourseOutline]:
    """The published outline of each course, in two queries whatever the number of courses."""
    courses = list(courses)
    if not courses:
        return {}
    under_any = Q()
    for course in courses:
        under_any |= Q(path__startswith=course.path)
    depth = courses[0].depth
    modules = (
        ModulePage.objects.live()
        .filter(under_any, depth=depth + 1)
        .order_by("path")
        .values_list("id", "path")
    )
    lessons = (
        LessonPage.objects.live()
        .filter(under_any, depth=depth + 2)
        .order_by("path")
        .values_list("id", "path", "scenario_ids")
    )
    lessons_by_module: dict[str, list[LessonRef]] = {}
    for lesson_id, path, scenario_ids in lessons:
        ref = LessonRef(id=lesson_id, scenario_ids=tuple(scenario_ids or ()))
        lessons_by_module.setdefault(path[:-STEP], []).append(ref)
    modules_by_course: dict[str, list[ModuleRef]] = {}
    for module_id, path in modules:
        refs = tuple(lessons_by_module.get(path, ()))
        modules_by_course.setdefault(path[:-STEP], []).append(ModuleRef(module_id, refs))
    return {
        c.pk: CourseOutline(
            course_id=c.pk,
            modules=tuple(modules_by_course.get(c.path, ())),
            assessment=c.assessment_question_count > 0,
        )
        for c in courses
    }


def course_outline(course: CoursePage) -> CourseOutline:
    return outlines_for([course])[course.pk]


def current_enrolment(user: User, course_id: int) -> Enrolment | None:
    """The officer's latest enrolment on the course (open, or the last one completed)."""
    return Enrolment.objects.filter(user=user, course_id=course_id).order_by("-started_at").first()


def completed_lessons(enrolment: Enrolment | None) -> set[int]:
    if enrolment is None or enrolment.pk is None:
        return set()
    return set(enrolment.lesson_completions.values_list("lesson_id", flat=True))


def assessment_passed(enrolment: Enrolment | None) -> bool:
    """Whether the officer passed the course's final assessment in this run (one query)."""
    if enrolment is None or enrolment.pk is None:
        return False
    return AssessmentAttempt.objects.filter(enrolment=enrolment, passed=True).exists()


def scenario_passes(user: User, scenario_ids: Iterable[int]) -> dict[int, datetime]:
    """When the officer last passed each of these scenarios (one query; none if no ids)."""
    ids = set(scenario_ids)
    if not ids:
        return {}
    return last_passes(user=user, scenario_ids=ids)


def passes_counted(user: User, outline: CourseOutline, enrolment: Enrolment | None) -> set[int]:
    """The scenarios of the course whose passes count toward this enrolment (one query)."""
    since = enrolment.passes_count_after if enrolment else None
    return counted_passes(scenario_passes(user, outline.scenario_ids), since)


@dataclass(frozen=True)
class CourseState:
    course: CoursePage
    enrolment: Enrolment | None
    outline: CourseOutline
    completed: frozenset[int]
    passed: frozenset[int]
    progress: Progress
    assessment_passed: bool = False

    @property
    def is_complete(self) -> bool:
        return self.enrolment is not None and self.enrolment.is_complete

    @property
    def started(self) -> bool:
        return self.enrolment is not None


def course_state(user: User, course: CoursePage) -> CourseState:
    outline = course_outline(course)
    enrolment = current_enrolment(user, course.pk)
    completed = completed_lessons(enrolment) if enrolment and not enrolment.is_complete else set()
    passed = passes_counted(user, outline, enrolment)
    return CourseState(
        course=course,
        enrolment=enrolment,
        outline=outline,
        completed=frozenset(completed),
        passed=frozenset(passed),
        progress=course_progress(outline, completed, passed),
        assessment_passed=outline.assessment
        and enrolment is not None
        and not enrolment.is_complete
        and assessment_passed(enrolment),
    )


def _lesson_rows(
    lessons: Iterable[LessonRef], state: CourseState, pages: dict[int, Page]
) -> list[dict[str, Any]]:
    return [
        {
            "page": pages[lesson.id],
            "done": state.is_complete or lesson_complete(lesson, state.completed, state.passed),
        }
        for lesson in lessons
        if lesson.id in pages
    ]


def course_view(*, user: User, course: CoursePage) -> dict[str, Any]:
    state = course_state(user, course)
    ids = [lesson.id for lesson in state.outline.lessons] + [m.id for m in state.outline.modules]
    pages = {p.pk: p for p in Page.objects.filter(pk__in=ids)}
    minutes = minutes_for([state.outline])[course.pk]
    modules = []
    for module in state.outline.modules:
        done = state.is_complete or module_complete(module, state.completed, state.passed)
        modules.append(
            {
                "page": pages[module.id],
                "lessons": _lesson_rows(module.lessons, state, pages),
                "done": done,
                "minutes": minutes.get(module.id, 0),
            }
        )
    # "About N minutes": the sum of the live lessons, not the course's old typed-in field.
    return {"state": state, "modules": modules, "minutes": minutes[course.pk]}


def module_view(*, user: User, module: ModulePage) -> dict[str, Any]:
    course = CoursePage.objects.get(path=module.path[:-STEP])
    state = course_state(user, course)
    outline_module = next((m for m in state.outline.modules if m.id == module.pk), None)
    lessons = outline_module.lessons if outline_module else ()
    pages = {p.pk: p for p in Page.objects.filter(pk__in=[lesson.id for lesson in lessons])}
    return {"state": state, "course": course, "lessons": _lesson_rows(lessons, state, pages)}


def lesson_view(*, request: HttpRequest, lesson: LessonPage) -> dict[str, Any]:
    course = CoursePage.objects.get(path=lesson.path[: -2 * STEP])
    module = ModulePage.objects.get(path=lesson.path[:-STEP])
    state = course_state(request.user, course)
    preview = getattr(request, "is_preview", False)
    if not preview and lesson.pk is not None:
        # A view is a write (the start of the officer's time on the lesson); services import
        # this module, hence the import here.
        from courses.services import lesson_visit_record

        lesson_visit_record(user=request.user, lesson=lesson, enrolment=state.enrolment)
    checks = lesson_checks(request=request, lesson=lesson, state=state, preview=preview)
    order = [ref.id for ref in state.outline.lessons]
    ref = next((r for r in state.outline.lessons if r.id == lesson.pk), None)
    position = order.index(lesson.pk) if lesson.pk in order else None
    neighbours: dict[str, int | None] = {"previous": None, "next": None}
    if position is not None:
        neighbours["previous"] = order[position - 1] if position > 0 else None
        neighbours["next"] = order[position + 1] if position + 1 < len(order) else None
    pages = {p.pk: p for p in Page.objects.filter(pk__in=[i for i in neighbours.values() if i])}
    warning = lesson.content_warning()
    return {
        "scenario_status": _scenario_status(request.user, lesson.placed_scenario_ids(), state),
        "course": course,
        "module": module,
        "state": state,
        "lesson_done": bool(ref)
        and (state.is_complete or lesson_complete(ref, state.completed, state.passed)),
        "marked_complete": lesson.pk in state.completed,
        "unpassed_scenarios": unpassed_scenarios(ref, state.passed) if ref else (),
        **checks,
        "previous_page": pages.get(neighbours["previous"] or 0),
        "next_page": pages.get(neighbours["next"] or 0),
        "position": (position + 1) if position is not None else None,
        "lesson_count": len(order),
        "content_warning": warning,
        # Authors previewing see the warning and the content together.
        "show_warning": warning is not None
        and request.GET.get("warning") != "accepted"
        and not getattr(request, "is_preview", False),
    }


def _scenario_status(
    user: User, scenario_ids: list[int], state: CourseState
) -> dict[int, dict[str, Any]]:
    """For each scenario in a lesson: the open attempt, the last finished one, passed or not."""
    if not scenario_ids:
        return {}
    status: dict[int, dict[str, Any]] = {}
    for scenario_id, attempts in attempts_by_scenario(user=user, scenario_ids=scenario_ids).items():
        status[scenario_id] = {
            "open": next((a for a in attempts if not a.is_finished), None),
            "last_finished": next((a for a in attempts if a.is_finished), None),
            "passed": scenario_id in state.passed,
        }
    return status


def enrolments_summary(user: User) -> dict[str, Any]:
    """The officer's courses: in progress (with progress) and completed runs, and the latest
    enrolment per course; in a bounded number of queries."""
    enrolments = list(
        Enrolment.objects.filter(user=user).select_related("course").order_by("-started_at")
    )
    latest: dict[int, Enrolment] = {}
    completed_runs: list[Enrolment] = []
    for enrolment in enrolments:
        if enrolment.is_complete:
            completed_runs.append(enrolment)
        latest.setdefault(enrolment.course_id, enrolment)
    courses = [e.course for e in latest.values() if e.course.live]
    outlines = outlines_for(courses)
    open_ids = [e.pk for e in latest.values() if not e.is_complete]
    done_by_enrolment: dict[int, set[int]] = {}
    for enrolment_id, lesson_id in LessonCompletion.objects.filter(
        enrolment_id__in=open_ids
    ).values_list("enrolment_id", "lesson_id"):
        done_by_enrolment.setdefault(enrolment_id, set()).add(lesson_id)
    passes = scenario_passes(user, {s for o in outlines.values() for s in o.scenario_ids})
    in_progress = []
    for enrolment in latest.values():
        if enrolment.is_complete or enrolment.course_id not in outlines:
            continue
        progress = course_progress(
            outlines[enrolment.course_id],
            done_by_enrolment.get(enrolment.pk, set()),
            counted_passes(passes, enrolment.passes_count_after),
        )
        in_progress.append(
            {"enrolment": enrolment, "course": enrolment.course, "progress": progress}
        )
    return {
        "in_progress": in_progress,
        "completed": completed_runs,
        "latest": latest,
    }


# --- Check questions --------------------------------------------------------------------------

# Session keys for what a POST to the check endpoint leaves for the next view of the lesson
# (Post/Redirect/Get): an error to show at a question, and a practice answer on a completed
# course, which is not recorded.
CHECK_ERROR_KEY = "courses.check_error"
PRACTICE_KEY = "courses.check_practice"


def lesson_check_questions(lesson: LessonPage) -> tuple[CheckQuestion, ...]:
    """The lesson's check questions: block ids and option ids (ListBlock item ids) with which
    options are right and pinned, in authored order."""
    questions = []
    for block in lesson.body:
        if block.block_type != "question":
            continue
        options = tuple(
            CheckOption(
                id=str(item.id),
                correct=bool(item.value["correct"]),
                pinned=bool(item.value["pinned"]),
            )
            for item in block.value["options"].bound_blocks
        )
        questions.append(
            CheckQuestion(id=str(block.id), multiple=bool(block.value["multiple"]), options=options)
        )
    return tuple(questions)


def check_seed(user: User, enrolment: Enrolment | None) -> str:
    """The seed of the option order: the run's own (`Enrolment.order_seed`).

    An officer who has not started the course yet has no run, and viewing a lesson must not
    start one (an enrolment marks their assignment started): until then the order derives from
    a seed stable for the officer, so it does not change between reloads either."""
    if enrolment is not None:
        return enrolment.order_seed
    return f"user-{user.pk}"


@dataclass(frozen=True)
class CheckRun:
    """The officer's answers to a lesson's checks in one run: the latest per question, and
    the questions answered correctly at least once."""

    latest: dict[str, CheckAnswer]
    correct: frozenset[str]


def check_answers_in_run(enrolment: Enrolment | None, lesson_id: int) -> CheckRun:
    """One query (none without an enrolment)."""
    if enrolment is None or enrolment.pk is None:
        return CheckRun(latest={}, correct=frozenset())
    latest: dict[str, CheckAnswer] = {}
    correct: set[str] = set()
    for answer in CheckAnswer.objects.filter(enrolment=enrolment, lesson_id=lesson_id).order_by(
        "answered_at", "pk"
    ):
        latest[answer.question] = answer
        if answer.correct:
            correct.add(answer.question)
    return CheckRun(latest=latest, correct=frozenset(correct))


def lesson_checks(
    *, request: HttpRequest, lesson: LessonPage, state: CourseState, preview: bool = False
) -> dict[str, Any]:
    """What the lesson page shows of its check questions: each question's options in this
    run's order with the feedback on the latest answer, an error left by a refused answer,
    and how many questions are still to answer correctly before the lesson can be completed.

    An author previewing sees the authored order and no answers.
    """
    questions = lesson_check_questions(lesson)
    session = getattr(request, "session", None)
    error = session.pop(CHECK_ERROR_KEY, None) if session is not None and not preview else None
    practice = session.pop(PRACTICE_KEY, None) if session is not None and not preview else None
    if not questions:
        return {"checks": {}, "checks_left": 0, "check_error": error, "check_url": None}
    open_run = state.enrolment if state.enrolment and not state.is_complete else None
    run = check_answers_in_run(open_run, lesson.pk) if not preview else CheckRun({}, frozenset())
    seed = check_seed(request.user, state.enrolment)
    checks: dict[str, dict[str, Any]] = {}
    for question in questions:
        authored = [o.id for o in question.options]
        order = authored if preview else check_option_order(seed, question)
        chosen: set[str] = set()
        answered = run.latest.get(question.id)
        if answered is not None:
            chosen = {str(i) for i in answered.chosen}
        if practice and practice.get("question") == question.id:
            chosen = {str(i) for i in practice.get("chosen", [])}
        checks[question.id] = {
            "order": order,
            "chosen": chosen,
            "answered": bool(chosen),
            "all_right": bool(chosen) and chosen == question.correct_ids,
            "error": error["message"] if error and error.get("question") == question.id else "",
        }
    left = unanswered_checks([q.id for q in questions], run.correct)
    return {
        "checks": checks,
        # A completed course's lessons are practice: nothing is left to do.
        "checks_left": 0 if state.is_complete else len(left),
        "check_error": error,
        "check_url": None
        if preview or lesson.pk is None
        else reverse("courses:lesson_check", args=[lesson.pk]),
    }


def minutes_for(outlines: Iterable[CourseOutline]) -> dict[int, dict[int, int]]:
    """Estimated minutes of each course and of each of its modules: the sum of their live
    lessons' estimates (one query), so a course's time is never a stale typed-in number.
    Returns {course id: {course id: minutes, module id: minutes, ...}}."""
    outlines = list(outlines)
    ids = [lesson.id for outline in outlines for lesson in outline.lessons]
    lesson_minutes = (
        dict(LessonPage.objects.filter(pk__in=ids).values_list("id", "duration_minutes"))
        if ids
        else {}
    )
    result: dict[int, dict[int, int]] = {}
    for outline in outlines:
        sums = {
            module.id: sum(lesson_minutes.get(lesson.id, 0) for lesson in module.lessons)
            for module in outline.modules
        }
        sums[outline.course_id] = sum(sums.values())
        result[outline.course_id] = sums
    return result
