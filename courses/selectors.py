"""Reads for learners: outlines, progress, and the context of each learner page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import F, Max, Q, QuerySet
from django.http import HttpRequest
from django.template.loader import get_template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from wagtail.models import Page

from courses import cache as content_cache
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


@dataclass(frozen=True)
class PageLink:
    """What a learner page shows of another page: its title and address."""

    id: int
    title: str
    url: str | None

    @property
    def pk(self) -> int:
        return self.id


@dataclass(frozen=True)
class PublishedCourse:
    """A course's published modules and lessons, the same for every learner: the structure
    with each part's audience (what `outline_for` cuts per jurisdiction), each module's and
    lesson's title and address, and each lesson's minutes. Kept in the shared cache."""

    course_id: int
    modules: tuple[ModuleContent, ...]
    links: Mapping[int, PageLink] = field(default_factory=dict)
    minutes: Mapping[int, int] = field(default_factory=dict)

    def content(self, course: CoursePage) -> CourseContent:
        """With the course's own settings (those of `course` as given: a preview's draft)."""
        return CourseContent(
            course_id=self.course_id,
            modules=self.modules,
            assessment=course.assessment_question_count > 0,
            jurisdiction=course.jurisdiction,
        )


def _page_url(url_path: str) -> str | None:
    """A page's path on its site, from its URL path (no query), None if no site routes it.
    Always the path, never an address with a host name: an outline is kept for every request
    (courses.cache), whichever of the site's host names it came in on."""
    parts = Page(url_path=url_path).get_url_parts()
    return parts[2] if parts is not None else None


def _published_courses(courses: list[CoursePage]) -> dict[str, PublishedCourse]:
    """The published structure of each course, by course path: three queries whatever the
    number of courses (the third, for the scenarios' audiences, only when a lesson places a
    scenario)."""
    modules_under, lessons_under = Q(pk__in=[]), Q(pk__in=[])
    for course in courses:
        modules_under |= Q(path__startswith=course.path, depth=course.depth + 1)
        lessons_under |= Q(path__startswith=course.path, depth=course.depth + 2)
    modules = (
        ModulePage.objects.live()
        .filter(modules_under)
        .order_by("path")
        .values_list("id", "path", "audience", "title", "url_path")
    )
    lessons = list(
        LessonPage.objects.live()
        .filter(lessons_under)
        .order_by("path")
        .values_list(
            "id", "path", "scenario_ids", "audience", "title", "url_path", "duration_minutes"
        )
    )
    scenario_ids = {sid for row in lessons for sid in row[2] or ()}
    audiences = (
        dict(Scenario.objects.filter(pk__in=scenario_ids).values_list("id", "audience"))
        if scenario_ids
        else {}
    )
    links: dict[str, dict[int, PageLink]] = {}
    minutes: dict[str, dict[int, int]] = {}
    lessons_by_module: dict[str, list[LessonContent]] = {}
    for lesson_id, path, ids, audience, title, url_path, duration in lessons:
        scenarios = tuple(
            ScenarioContent(id=sid, audience=tuple(audiences.get(sid) or ())) for sid in ids or ()
        )
        lessons_by_module.setdefault(path[:-STEP], []).append(
            LessonContent(id=lesson_id, audience=tuple(audience or ()), scenarios=scenarios)
        )
        course_path = path[: -2 * STEP]
        links.setdefault(course_path, {})[lesson_id] = PageLink(
            lesson_id, title, _page_url(url_path)
        )
        minutes.setdefault(course_path, {})[lesson_id] = duration
    modules_by_course: dict[str, list[ModuleContent]] = {}
    for module_id, path, audience, title, url_path in modules:
        course_path = path[:-STEP]
        modules_by_course.setdefault(course_path, []).append(
            ModuleContent(
                id=module_id,
                audience=tuple(audience or ()),
                lessons=tuple(lessons_by_module.get(path, ())),
            )
        )
        links.setdefault(course_path, {})[module_id] = PageLink(
            module_id, title, _page_url(url_path)
        )
    return {
        c.path: PublishedCourse(
            course_id=c.pk,
            modules=tuple(modules_by_course.get(c.path, ())),
            links=links.get(c.path, {}),
            minutes=minutes.get(c.path, {}),
        )
        for c in courses
    }


def published_courses(courses: Iterable[CoursePage]) -> dict[int, PublishedCourse]:
    """`PublishedCourse` of each course, by course id, from the shared cache (the queries of
    `_published_courses` for those not kept)."""
    by_path = {course.path: course for course in courses}
    found = content_cache.get_or_build_many(
        "course",
        by_path,
        lambda paths: _published_courses([by_path[path] for path in paths]),
    )
    return {by_path[path].pk: published for path, published in found.items()}


def course_contents(courses: Iterable[CoursePage]) -> dict[int, CourseContent]:
    """The published structure of each course with every part's audience: from the shared
    cache, else in three queries whatever the number of courses (the third, for the
    scenarios' audiences, only when a lesson places a scenario)."""
    courses = list(courses)
    published = published_courses(courses)
    return {c.pk: published[c.pk].content(c) for c in courses if c.pk in published}


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


def _parents_of_lesson(module_path: str) -> tuple[CoursePage | None, ModulePage | None]:
    return (
        CoursePage.objects.filter(path=module_path[:-STEP]).first(),
        ModulePage.objects.filter(path=module_path).first(),
    )


def _parents_of_module(course_path: str) -> tuple[CoursePage | None, None]:
    return CoursePage.objects.filter(path=course_path).first(), None


def page_parents(page: ModulePage | LessonPage) -> tuple[CoursePage | None, ModulePage | None]:
    """The course and (for a lesson) the module a page is in, as stored (live or not): from
    the shared cache, else one query each; once per page object (the withheld check and the
    page's view both ask)."""
    parents = getattr(page, _PARENTS_ATTR, None)
    if parents is None:
        above = page.path[:-STEP]
        if isinstance(page, LessonPage):
            parents = content_cache.get_or_build(
                "lesson-parents", above, lambda: _parents_of_lesson(above)
            )
        else:
            parents = content_cache.get_or_build(
                "module-parents", above, lambda: _parents_of_module(above)
            )
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


def current_enrolment_and_lessons(user: User, course_id: int) -> tuple[Enrolment | None, set[int]]:
    """`current_enrolment` and the lessons completed in it (`completed_lessons`), in one
    query: the enrolment once per lesson completed in it (none: once, with no lesson)."""
    latest = Enrolment.objects.filter(user=user, course_id=course_id).order_by("-started_at")
    rows = list(
        Enrolment.objects.filter(pk__in=latest.values("pk")[:1])
        .annotate(_completed_lesson=F("lesson_completions__lesson_id"))
        .order_by()
    )
    if not rows:
        return None, set()
    return rows[0], {row._completed_lesson for row in rows if row._completed_lesson is not None}


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
    """The officer's standing in a course. What needs more reading (the scenarios passed, and
    so the progress; the final assessment) is read when first asked for."""

    user: User
    course: CoursePage
    enrolment: Enrolment | None
    outline: CourseOutline
    completed: frozenset[int]
    # The course's whole structure with audiences (the outline is the officer's cut of it).
    content: CourseContent | None = None

    @cached_property
    def passed(self) -> frozenset[int]:
        """The course's scenarios passed in this run: one query when it has scenarios."""
        return frozenset(passes_counted(self.user, self.outline, self.enrolment))

    @cached_property
    def progress(self) -> Progress:
        return course_progress(self.outline, self.completed, self.passed)

    @cached_property
    def assessment_passed(self) -> bool:
        """The final assessment passed in this (open) run: one query, when first asked."""
        return (
            self.outline.assessment
            and self.enrolment is not None
            and not self.enrolment.is_complete
            and assessment_passed(self.enrolment)
        )

    @property
    def is_complete(self) -> bool:
        return self.enrolment is not None and self.enrolment.is_complete

    @property
    def started(self) -> bool:
        return self.enrolment is not None

    @property
    def jurisdiction(self) -> str | None:
        return self.outline.jurisdiction


def course_state(
    user: User, course: CoursePage, *, published: PublishedCourse | None = None
) -> CourseState:
    """The officer's standing in the course, against the outline for their jurisdiction as it
    is now: an officer who moves force is measured against the new outline at once, while a
    recorded completion stays complete. One query (one more for the scenarios passed, when
    asked), with the course's `published` structure when the caller has it."""
    if published is None:
        published = published_courses([course])[course.pk]
    content = published.content(course)
    outline = outline_for(content, officer_jurisdiction(user))
    enrolment, lessons_done = current_enrolment_and_lessons(user, course.pk)
    completed = lessons_done if enrolment and not enrolment.is_complete else set()
    return CourseState(
        user=user,
        course=course,
        enrolment=enrolment,
        outline=outline,
        completed=frozenset(completed),
        content=content,
    )


def _lesson_rows(
    lessons: Iterable[LessonRef], state: CourseState, links: Mapping[int, PageLink]
) -> list[dict[str, Any]]:
    return [
        {
            "page": links[lesson.id],
            "done": state.is_complete or lesson_complete(lesson, state.completed, state.passed),
        }
        for lesson in lessons
        if lesson.id in links
    ]


def course_view(*, user: User, course: CoursePage) -> dict[str, Any]:
    published = published_courses([course])[course.pk]
    state = course_state(user, course, published=published)
    modules = []
    for module in state.outline.modules:
        done = state.is_complete or module_complete(module, state.completed, state.passed)
        modules.append(
            {
                "page": published.links[module.id],
                "lessons": _lesson_rows(module.lessons, state, published.links),
                "done": done,
                "minutes": sum(published.minutes.get(lesson.id, 0) for lesson in module.lessons),
            }
        )
    # "About N minutes": the sum of the live lessons, not the course's old typed-in field.
    return {
        "state": state,
        "modules": modules,
        "minutes": sum(module["minutes"] for module in modules),
        "jurisdiction_label": Jurisdiction(state.jurisdiction).label if state.jurisdiction else "",
        "jurisdiction_unknown": jurisdiction_unknown_message()
        if state.outline.jurisdiction_unknown
        else "",
    }


def module_view(*, user: User, module: ModulePage) -> dict[str, Any]:
    course = page_parents(module)[0]
    published = published_courses([course])[course.pk]
    state = course_state(user, course, published=published)
    outline_module = next((m for m in state.outline.modules if m.id == module.pk), None)
    lessons = outline_module.lessons if outline_module else ()
    return {
        "state": state,
        "course": course,
        "lessons": _lesson_rows(lessons, state, published.links),
    }


def _previewed_withheld(request: HttpRequest, lesson: LessonPage) -> set[int]:
    """In a "view as" preview: the placed scenarios not for the jurisdiction being viewed."""
    jurisdiction = request_jurisdiction(request)
    ids = lesson.placed_scenario_ids()
    audiences = Scenario.objects.filter(pk__in=ids).values_list("pk", "audience") if ids else []
    return {pk for pk, audience in audiences if not audience_includes(audience, jurisdiction)}


def lesson_view(*, request: HttpRequest, lesson: LessonPage) -> dict[str, Any]:
    course, module = page_parents(lesson)
    published = published_courses([course])[course.pk]
    state = course_state(request.user, course, published=published)
    preview = getattr(request, "is_preview", False)
    if (
        not preview
        and lesson.pk is not None
        and not state.is_complete
        and lesson.pk not in state.completed
    ):
        # A view is a write (the start of the officer's time on the lesson), until the lesson
        # is complete in this run: then its time is recorded, and a completed course's
        # lessons are practice. Services import this module, hence the import here.
        from courses.services import lesson_visit_record

        lesson_visit_record(user=request.user, lesson=lesson, enrolment=state.enrolment)
    checks = lesson_checks(request=request, lesson=lesson, state=state, preview=preview)
    if preview:
        withheld = _previewed_withheld(request, lesson)
        placed = lesson.placed_scenario_ids()
    else:
        withheld = withheld_scenarios(state, lesson.pk)
        placed = lesson.stored_scenario_ids()
    order = [ref.id for ref in state.outline.lessons]
    ref = next((r for r in state.outline.lessons if r.id == lesson.pk), None)
    position = order.index(lesson.pk) if lesson.pk in order else None
    previous = next_ = None
    if position is not None:
        previous = order[position - 1] if position > 0 else None
        next_ = order[position + 1] if position + 1 < len(order) else None
    warning = lesson.content_warning()
    # Authors previewing see the warning and the content together.
    show_warning = (
        warning is not None
        and request.GET.get("warning") != "accepted"
        and not getattr(request, "is_preview", False)
    )
    # Behind its content warning the lesson's body is not shown (nor read).
    body, references = (
        ([], []) if show_warning else lesson_body(request=request, lesson=lesson, withheld=withheld)
    )
    # The lesson's own scenarios, with the officer's attempts at them (and so which they have
    # passed in this run: the course's other scenarios are not needed here).
    here = [i for i in placed if i not in withheld]
    attempts = attempts_by_scenario(user=request.user, scenario_ids=here) if here else {}
    since = state.enrolment.passes_count_after if state.enrolment else None
    passed = counted_passes(_last_passes(attempts), since)
    return {
        "scenario_status": _scenario_status(attempts, passed),
        # Scenarios placed in the lesson for other jurisdictions: not shown to this officer.
        "withheld_scenario_ids": withheld,
        # Authors and leads get links to see the lesson as an officer of each jurisdiction.
        "can_view_as": has_staff_role(request.user),
        "course": course,
        "module": module,
        "state": state,
        "lesson_done": bool(ref)
        and (state.is_complete or lesson_complete(ref, state.completed, passed)),
        "marked_complete": lesson.pk in state.completed,
        "unpassed_scenarios": unpassed_scenarios(ref, passed) if ref else (),
        **checks,
        "previous_page": published.links.get(previous) if previous else None,
        "next_page": published.links.get(next_) if next_ else None,
        "position": (position + 1) if position is not None else None,
        "lesson_count": len(order),
        "content_warning": warning,
        # The body's blocks, without the withheld scenarios.
        "body": body,
        # The lesson's sources, listed once at its end as numbered references: those for this
        # officer's jurisdiction (or the one previewed), like the switch blocks' text.
        "references": references,
        "show_warning": show_warning,
    }


# --- The lesson body -------------------------------------------------------------------------

# Blocks that look the same to every officer of a jurisdiction (the switch shows the
# jurisdiction's text): rendered once and kept. Every other kind depends on the officer reading
# it (a question: their answers and option order; a scenario: their attempts; local
# information: their force's text) and is rendered for each request, as is any new kind until
# it is added here.
SHARED_BLOCKS = frozenset({"text", "image", "video", "key_message", "jurisdiction_switch"})
# Blocks shown elsewhere than in the body: the warning before the lesson, the sources after it
# (the sources are the same for every officer of a jurisdiction too).
OUTSIDE_BODY_BLOCKS = frozenset({"content_warning", "citation"})


def shared_blocks() -> frozenset[str]:
    """SHARED_BLOCKS, less images when the media storage signs its links (S3 with query-string
    authentication): such a link expires within hours, and a body is kept for a day."""
    if getattr(default_storage, "querystring_auth", False):
        return SHARED_BLOCKS - {"image"}
    return SHARED_BLOCKS


@dataclass(frozen=True)
class BodyPart:
    """One block of a lesson body as its page shows it: HTML rendered once for every officer
    of a jurisdiction, or (`block`) a block rendered for this request."""

    html: SafeString | None = None
    block: Any = None


@dataclass(frozen=True)
class RenderedBody:
    """What a lesson body looks like to every officer of one jurisdiction: each block in
    order, as HTML or (an int) the position of a per-officer block to render for each request;
    and the references listed at the end, as HTML. Kept in the shared cache."""

    parts: tuple[str | int, ...]
    references: tuple[str, ...]


def lesson_references(lesson: LessonPage, jurisdiction: str | None) -> list[Any]:
    """The lesson's citation blocks for an officer of `jurisdiction`: every one listed for all,
    and those listed for their jurisdiction (a source of another's law is not shown to them)."""
    return [
        lesson.body[index]
        for index in lesson.block_positions("citation")
        if audience_includes(lesson.body[index].value.get("audience"), jurisdiction)
    ]


def _render_body(request: HttpRequest, lesson: LessonPage) -> RenderedBody:
    """Render every block that looks the same to every officer of the request's jurisdiction
    (the switch blocks show its text; the references listed are those for it). Only the
    request, the page and the block are in the blocks' context: nothing of the officer."""
    block_template = get_template("courses/_lesson_block.html")
    reference_template = get_template("courses/_lesson_reference.html")
    context = {"request": request, "page": lesson}
    shared = shared_blocks()
    parts: list[str | int] = []
    for index, raw in enumerate(lesson.body.raw_data):
        kind = raw["type"]
        if kind in shared:
            parts.append(str(block_template.render({**context, "block": lesson.body[index]})))
        elif kind not in OUTSIDE_BODY_BLOCKS:
            parts.append(index)
    references = tuple(
        str(reference_template.render({**context, "block": block}))
        for block in lesson_references(lesson, request_jurisdiction(request))
    )
    return RenderedBody(parts=tuple(parts), references=references)


def lesson_body(
    *, request: HttpRequest, lesson: LessonPage, withheld: set[int]
) -> tuple[list[BodyPart], list[SafeString]]:
    """The lesson's body as its page shows it, and its references.

    What is the same for every officer of a jurisdiction is rendered once per page revision
    and jurisdiction and kept in the shared cache (courses.cache: a change of content makes
    it unreachable); the officer's own blocks (all but SHARED_BLOCKS) are left to render for
    this request. Previews (a draft, or "view as") are rendered each time, never kept."""
    if getattr(request, "is_preview", False) or lesson.pk is None:
        rendered = _render_body(request, lesson)
    else:
        key = ":".join(
            [
                str(lesson.pk),
                str(lesson.live_revision_id),
                request_jurisdiction(request) or "-",
                get_language() or "-",
            ]
        )
        rendered = content_cache.get_or_build(
            "lesson-body", key, lambda: _render_body(request, lesson)
        )
    parts = []
    for part in rendered.parts:
        if isinstance(part, str):
            parts.append(BodyPart(html=mark_safe(part)))  # noqa: S308 - rendered by our templates
            continue
        raw = lesson.body.raw_data[part]
        if raw["type"] == "scenario" and (raw["value"] or {}).get("scenario") in withheld:
            continue
        parts.append(BodyPart(block=lesson.body[part]))
    references = [mark_safe(html) for html in rendered.references]  # noqa: S308 - as above
    return parts, references


def withheld_scenarios(state: CourseState, lesson_id: int) -> set[int]:
    """The scenarios placed in the lesson whose audience leaves out the officer: the lesson
    page does not show them and nothing requires them."""
    lesson = state.content.lesson(lesson_id) if state.content else None
    if lesson is None:
        return set()
    return {s.id for s in lesson.scenarios if not audience_includes(s.audience, state.jurisdiction)}


def _last_passes(attempts: Mapping[int, list[Attempt]]) -> dict[int, datetime]:
    """When each scenario was last passed, from the officer's attempts at it (as
    scenarios.selectors.last_passes reads it)."""
    last: dict[int, datetime] = {}
    for scenario_id, tries in attempts.items():
        passes = [a.finished_at for a in tries if a.passed and a.finished_at is not None]
        if passes:
            last[scenario_id] = max(passes)
    return last


def _scenario_status(
    attempts: Mapping[int, list[Attempt]], passed: set[int]
) -> dict[int, dict[str, Any]]:
    """For each scenario in a lesson: the open attempt, the last finished one, passed or not
    (`attempts`: the officer's, newest first)."""
    return {
        scenario_id: {
            "open": next((a for a in tries if not a.is_finished), None),
            "last_finished": next((a for a in tries if a.is_finished), None),
            "passed": scenario_id in passed,
        }
        for scenario_id, tries in attempts.items()
    }


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
    for index in lesson.block_positions("question"):
        block = lesson.body[index]
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
