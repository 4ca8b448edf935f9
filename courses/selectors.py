"""Reads for learners: outlines, progress, and the context of each learner page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from wagtail.models import Page

from courses.blocks import request_jurisdiction
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
    ALL_JURISDICTIONS,
    CheckOption,
    CheckQuestion,
    CourseContent,
    CourseOutline,
    LessonContent,
    LessonRef,
    ModuleContent,
    Progress,
    ScenarioContent,
    audience_includes,
    check_option_order,
    counted_passes,
    course_applies,
    course_progress,
    course_withheld,
    lesson_complete,
    module_complete,
    outline_for,
    unanswered_checks,
    unpassed_scenarios,
)
from officers.jurisdictions import Jurisdiction
from officers.models import User
from officers.roles import has_staff_role
from officers.selectors import officer_jurisdiction
from scenarios.models import Attempt, Scenario
from scenarios.selectors import attempts_by_scenario, last_passes

STEP = Page.steplen


# Every jurisdiction an officer can have, and None (not known): at most this many outlines per
# course, which the leads' views compute once and pick from per officer.
OFFICER_JURISDICTIONS: tuple[str | None, ...] = (*Jurisdiction.values, None)


def course_contents(courses: Iterable[CoursePage]) -> dict[int, CourseContent]:
    """The published structure of each course with every part's audience, in three queries
    whatever the number of courses (the third, for the scenarios' audiences, only when a
    lesson places a scenario)."""
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
        .values_list("id", "path", "audience")
    )
    lessons = list(
        LessonPage.objects.live()
        .filter(under_any, depth=depth + 2)
        .order_by("path")
        .values_list("id", "path", "scenario_ids", "audience")
    )
    scenario_ids = {sid for row in lessons for sid in row[2] or ()}
    audiences = (
        dict(Scenario.objects.filter(pk__in=scenario_ids).values_list("id", "audience"))
        if scenario_ids
        else {}
    )
    lessons_by_module: dict[str, list[LessonContent]] = {}
    for lesson_id, path, ids, audience in lessons:
        scenarios = tuple(
            ScenarioContent(id=sid, audience=tuple(audiences.get(sid) or ())) for sid in ids or ()
        )
        lessons_by_module.setdefault(path[:-STEP], []).append(
            LessonContent(id=lesson_id, audience=tuple(audience or ()), scenarios=scenarios)
        )
    modules_by_course: dict[str, list[ModuleContent]] = {}
    for module_id, path, audience in modules:
        modules_by_course.setdefault(path[:-STEP], []).append(
            ModuleContent(
                id=module_id,
                audience=tuple(audience or ()),
                lessons=tuple(lessons_by_module.get(path, ())),
            )
        )
    return {
        c.pk: CourseContent(
            course_id=c.pk,
            modules=tuple(modules_by_course.get(c.path, ())),
            assessment=c.assessment_question_count > 0,
            jurisdiction=c.jurisdiction,
        )
        for c in courses
    }


def outlines_for(
    courses: Iterable[CoursePage], *, jurisdiction: str | None = None
) -> dict[int, CourseOutline]:
    """The outline of each course an officer of `jurisdiction` must complete (None: an officer
    whose jurisdiction is unknown, who gets only the parts for every jurisdiction), in the
    queries of `course_contents`."""
    return {
        pk: outline_for(content, jurisdiction) for pk, content in course_contents(courses).items()
    }


def outlines_by_jurisdiction(
    courses: Iterable[CoursePage],
) -> dict[int, dict[str | None, CourseOutline]]:
    """Every outline of each course, one per jurisdiction an officer can have (and None), in
    the queries of `course_contents`: for views that count many officers, each against their
    own outline."""
    return {
        pk: {code: outline_for(content, code) for code in OFFICER_JURISDICTIONS}
        for pk, content in course_contents(courses).items()
    }


def course_outline(course: CoursePage, *, jurisdiction: str | None = None) -> CourseOutline:
    return outlines_for([course], jurisdiction=jurisdiction)[course.pk]


def jurisdiction_unknown_message() -> str:
    """What an officer whose jurisdiction is unknown is told on a course with jurisdiction-
    specific parts, and when completing it is refused."""
    return _(
        "Your force, or its jurisdiction, is not set on your Pathways account, so Pathways "
        "cannot tell whether Scottish or English and Welsh law applies to you. This course has "
        "content that differs between them, so you cannot complete it yet. Ask your training "
        "lead or a Pathways administrator to set your force."
    )


def courses_open_to(user: User, courses: QuerySet[CoursePage]) -> QuerySet[CoursePage]:
    """`courses` without those for another jurisdiction than the officer's: `course_withheld`
    written as a filter (a test checks that the two agree)."""
    jurisdiction = officer_jurisdiction(user)
    if jurisdiction is None:
        return courses
    return courses.filter(jurisdiction__in=[ALL_JURISDICTIONS, "", jurisdiction])


def lessons_open_to(user: User) -> set[int]:
    """The ids of the live lessons in the officer's outlines of the live courses open to them:
    what lesson search may show them (the queries of `course_contents`, plus one)."""
    courses = list(courses_open_to(user, CoursePage.objects.live()))
    outlines = outlines_for(courses, jurisdiction=officer_jurisdiction(user))
    return {lesson.id for outline in outlines.values() for lesson in outline.lessons}


_PARENTS_ATTR = "_pathways_parents"


def page_parents(page: ModulePage | LessonPage) -> tuple[CoursePage | None, ModulePage | None]:
    """The course and (for a lesson) the module a page is in: one query each, once per page
    object (the withheld check and the page's view both ask)."""
    parents = getattr(page, _PARENTS_ATTR, None)
    if parents is None:
        if isinstance(page, LessonPage):
            course = CoursePage.objects.filter(path=page.path[: -2 * STEP]).first()
            module = ModulePage.objects.filter(path=page.path[:-STEP]).first()
        else:
            course, module = CoursePage.objects.filter(path=page.path[:-STEP]).first(), None
        parents = (course, module)
        setattr(page, _PARENTS_ATTR, parents)
    return parents


def learner_page_withheld(*, user: User, page: Page) -> bool:
    """Whether an officer must not see this course, module or lesson (it is for another
    jurisdiction than theirs): shown to them exactly like a missing page. At most one query
    for a module, two for a lesson (its parents, which its view then uses). An officer whose
    jurisdiction is unknown sees a course limited to one jurisdiction (to be told why they
    cannot complete it), but none of its modules or lessons."""
    jurisdiction = officer_jurisdiction(user)
    if isinstance(page, CoursePage):
        return course_withheld(page.jurisdiction, jurisdiction)
    if not isinstance(page, ModulePage | LessonPage):
        return False
    course, module = page_parents(page)
    if course is not None and not course_applies(course.jurisdiction, jurisdiction):
        return True
    if not audience_includes(page.audience, jurisdiction):
        return True
    if isinstance(page, LessonPage):
        return not audience_includes(module.audience if module else None, jurisdiction)
    return False


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
    # The course's whole structure with audiences (the outline is the officer's cut of it).
    content: CourseContent | None = None

    @property
    def is_complete(self) -> bool:
        return self.enrolment is not None and self.enrolment.is_complete

    @property
    def started(self) -> bool:
        return self.enrolment is not None

    @property
    def jurisdiction(self) -> str | None:
        return self.outline.jurisdiction


def course_state(user: User, course: CoursePage) -> CourseState:
    """The officer's standing in the course, against the outline for their jurisdiction as it
    is now: an officer who moves force is measured against the new outline at once, while a
    recorded completion stays complete."""
    content = course_contents([course])[course.pk]
    outline = outline_for(content, officer_jurisdiction(user))
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
        content=content,
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
    return {
        "state": state,
        "modules": modules,
        "minutes": minutes[course.pk],
        "jurisdiction_label": Jurisdiction(state.jurisdiction).label if state.jurisdiction else "",
        "jurisdiction_unknown": jurisdiction_unknown_message()
        if state.outline.jurisdiction_unknown
        else "",
    }


def module_view(*, user: User, module: ModulePage) -> dict[str, Any]:
    course = page_parents(module)[0]
    state = course_state(user, course)
    outline_module = next((m for m in state.outline.modules if m.id == module.pk), None)
    lessons = outline_module.lessons if outline_module else ()
    pages = {p.pk: p for p in Page.objects.filter(pk__in=[lesson.id for lesson in lessons])}
    return {"state": state, "course": course, "lessons": _lesson_rows(lessons, state, pages)}


def _previewed_withheld(request: HttpRequest, lesson: LessonPage) -> set[int]:
    """In a "view as" preview: the placed scenarios not for the jurisdiction being viewed."""
    from courses.blocks import request_jurisdiction

    jurisdiction = request_jurisdiction(request)
    ids = lesson.placed_scenario_ids()
    audiences = Scenario.objects.filter(pk__in=ids).values_list("pk", "audience") if ids else []
    return {pk for pk, audience in audiences if not audience_includes(audience, jurisdiction)}


def lesson_view(*, request: HttpRequest, lesson: LessonPage) -> dict[str, Any]:
    course, module = page_parents(lesson)
    state = course_state(request.user, course)
    preview = getattr(request, "is_preview", False)
    if not preview and lesson.pk is not None:
        # A view is a write (the start of the officer's time on the lesson); services import
        # this module, hence the import here.
        from courses.services import lesson_visit_record

        lesson_visit_record(user=request.user, lesson=lesson, enrolment=state.enrolment)
    checks = lesson_checks(request=request, lesson=lesson, state=state, preview=preview)
    withheld = (
        _previewed_withheld(request, lesson) if preview else withheld_scenarios(state, lesson.pk)
    )
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
        "scenario_status": _scenario_status(
            request.user, [i for i in lesson.placed_scenario_ids() if i not in withheld], state
        ),
        # Scenarios placed in the lesson for other jurisdictions: not shown to this officer.
        "withheld_scenario_ids": withheld,
        # Authors and leads get links to see the lesson as an officer of each jurisdiction.
        "can_view_as": has_staff_role(request.user),
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
        # The lesson's sources, listed once at its end as numbered references: those for this
        # officer's jurisdiction (or the one previewed), like the switch blocks' text.
        "references": lesson_references(lesson, request_jurisdiction(request)),
        # Authors previewing see the warning and the content together.
        "show_warning": warning is not None
        and request.GET.get("warning") != "accepted"
        and not getattr(request, "is_preview", False),
    }


def lesson_references(lesson: LessonPage, jurisdiction: str | None) -> list[Any]:
    """The lesson's citation blocks for an officer of `jurisdiction`: every one listed for all,
    and those listed for their jurisdiction (a source of another's law is not shown to them)."""
    return [
        block
        for block in lesson.body
        if block.block_type == "citation"
        and audience_includes(block.value.get("audience"), jurisdiction)
    ]


def withheld_scenarios(state: CourseState, lesson_id: int) -> set[int]:
    """The scenarios placed in the lesson whose audience leaves out the officer: the lesson
    page does not show them and nothing requires them."""
    lesson = state.content.lesson(lesson_id) if state.content else None
    if lesson is None:
        return set()
    return {s.id for s in lesson.scenarios if not audience_includes(s.audience, state.jurisdiction)}


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
    jurisdiction = officer_jurisdiction(user)
    # A course now for another jurisdiction (the officer moved force) is no longer in
    # progress; its completed runs stay.
    courses = [
        e.course
        for e in latest.values()
        if e.course.live and not course_withheld(e.course.jurisdiction, jurisdiction)
    ]
    outlines = outlines_for(courses, jurisdiction=jurisdiction)
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


@dataclass(frozen=True)
class OfficerCourseProgress:
    """One officer's progress in one course, against the outline for their jurisdiction."""

    progress: Progress
    jurisdiction: str | None
    jurisdiction_unknown: bool


def progress_by_officer(
    *, officers: dict[int, str | None], pairs: Iterable[tuple[int, int]], courses: list[CoursePage]
) -> dict[tuple[int, int], OfficerCourseProgress]:
    """For each (user id, course id) in `pairs`: the officer's progress in their open run of
    the course (none started: 0 done), against the outline for their jurisdiction
    (`officers`: user id -> jurisdiction). The outlines are computed once per course and
    jurisdiction, then picked per officer: six queries whatever the number of officers."""
    pairs = list(pairs)
    outlines = outlines_by_jurisdiction(courses)
    user_ids = {user_id for user_id, _course in pairs}
    enrolments = {
        (user_id, course_id): (pk, since)
        for pk, user_id, course_id, since in Enrolment.objects.filter(
            user_id__in=user_ids, course_id__in=list(outlines), completed_at__isnull=True
        ).values_list("pk", "user_id", "course_id", "passes_count_after")
    }
    done: dict[int, set[int]] = {}
    for enrolment_id, lesson_id in LessonCompletion.objects.filter(
        enrolment_id__in=[pk for pk, _since in enrolments.values()]
    ).values_list("enrolment_id", "lesson_id"):
        done.setdefault(enrolment_id, set()).add(lesson_id)
    scenario_ids = {
        s for by_code in outlines.values() for o in by_code.values() for s in o.scenario_ids
    }
    passes: dict[int, dict[int, datetime]] = {}
    if scenario_ids and enrolments:
        for user_id, scenario_id, last in (
            Attempt.objects.filter(
                user_id__in={u for u, _course in enrolments},
                scenario_id__in=scenario_ids,
                passed=True,
            )
            .values("user_id", "scenario_id")
            .annotate(last=Max("finished_at"))
            .values_list("user_id", "scenario_id", "last")
        ):
            passes.setdefault(user_id, {})[scenario_id] = last
    result: dict[tuple[int, int], OfficerCourseProgress] = {}
    for user_id, course_id in pairs:
        if course_id not in outlines:
            continue
        jurisdiction = officers.get(user_id)
        outline = outlines[course_id][jurisdiction]
        pk, since = enrolments.get((user_id, course_id), (None, None))
        completed = done.get(pk, set()) if pk is not None else set()
        passed = counted_passes(passes.get(user_id, {}), since) if pk is not None else set()
        result[(user_id, course_id)] = OfficerCourseProgress(
            progress=course_progress(outline, completed, passed),
            jurisdiction=jurisdiction,
            jurisdiction_unknown=outline.jurisdiction_unknown,
        )
    return result


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
