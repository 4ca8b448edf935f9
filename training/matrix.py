"""Reads for training leads: the completion matrix, the lists and an officer's transcript.

Every function takes the person asking and only ever returns what is in their units.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from statistics import median
from typing import Any

from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page

from certificates.models import Certificate
from courses.models import CoursePage, LessonCompletion, LessonPage
from courses.selectors import progress_by_officer
from officers.models import OfficerProfile, Unit, User
from officers.selectors import led_unit_paths, subtree_q, user_can_manage_unit
from training.models import OFFICER_UNIT_PATH, Assignment
from training.rules import completion_too_fast
from training.tally import ASSIGNMENT_STATES, tally_counts, tally_roll_if_behind


@dataclass
class Cell:
    total: int = 0
    complete: int = 0
    in_progress: int = 0
    not_started: int = 0
    overdue: int = 0
    expiring: int = 0
    # An officer's row only: lessons done of those in the outline for their jurisdiction, and
    # whether their jurisdiction is unknown on a course that needs it (they cannot complete).
    lessons_done: int | None = None
    lessons_total: int | None = None
    jurisdiction_unknown: bool = False

    @property
    def percent(self) -> int:
        return 100 * self.complete // self.total if self.total else 0

    @property
    def tone(self) -> str:
        """good / fair / poor / none: shown as colour AND as text."""
        if not self.total:
            return "none"
        if self.percent >= 90 and not self.overdue:
            return "good"
        return "fair" if self.percent >= 60 else "poor"

    def add(self, other: Cell) -> None:
        for name in ("total", "complete", "in_progress", "not_started", "overdue", "expiring"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Row:
    label: str
    unit: Unit | None = None
    officer: OfficerProfile | None = None
    cells: dict[int, Cell] = field(default_factory=dict)
    drill: bool = False

    def cell(self, course_id: int) -> Cell:
        return self.cells.setdefault(course_id, Cell())


@dataclass
class Matrix:
    unit: Unit | None
    ancestors: list[Unit]
    courses: list[CoursePage]
    rows: list[Row]
    totals: Row
    # A team's officers come a page at a time (`rows` is the page; `totals` the whole team).
    officer_page: DjangoPage | None = None
    # How a team's officers are sorted (`OFFICER_ORDERINGS`, "-" first for the reverse).
    ordering: str = "name"


# Officers shown per page of a team's matrix: a team of thousands is never one page.
OFFICERS_PER_PAGE = 100

# How a team's officers may be sorted: the `ordering` value (a leading "-" reverses it) and
# its label. Courses complete and overdue count the courses shown (live ones) that apply to
# the officer, as the cells do; ties are broken by name, then by record.
OFFICER_ORDERINGS: dict[str, Any] = {
    "name": _("Name"),
    "service_number": _("Service number"),
    "complete": _("Courses complete"),
    "overdue": _("Courses overdue"),
}
DEFAULT_OFFICER_ORDERING = "name"

# Officers counted at once in a team's export: the export holds this many in memory, whatever
# the team's size.
EXPORT_CHUNK = 500


def officer_ordering(value: object) -> str:
    """`value` if it names a sort of a team's officers (`OFFICER_ORDERINGS`, optionally after
    "-"), else the default: anything that arrives in a query string, never an error."""
    if isinstance(value, str) and value.removeprefix("-") in OFFICER_ORDERINGS:
        return value
    return DEFAULT_OFFICER_ORDERING


def _officer_courses(condition: Q) -> Coalesce:
    """How many of the officer's current assignments of a live course that applies to them
    meet `condition`: a subquery per officer, for sorting."""
    counted = (
        Assignment.objects.applying()
        .filter(condition, user_id=OuterRef("user_id"), current=True, course__live=True)
        .order_by()
        .values("user_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def team_officers(unit: Unit, *, ordering: str, today: date) -> QuerySet[OfficerProfile]:
    """The officers placed on `unit`, in the order `ordering` names (see `officer_ordering`),
    always a total order (so that pages neither repeat nor skip an officer)."""
    ordering = officer_ordering(ordering)
    key, descending = ordering.removeprefix("-"), ordering.startswith("-")
    profiles = OfficerProfile.objects.filter(unit=unit).select_related("user", "force")
    name = ["user__last_name", "user__first_name"]
    if key == "complete":
        profiles = profiles.annotate(sort_count=_officer_courses(Q(completed_at__isnull=False)))
        keys, rest = ["sort_count"], name
    elif key == "overdue":
        overdue = Q(completed_at__isnull=True, due_on__lt=today)
        profiles = profiles.annotate(sort_count=_officer_courses(overdue))
        keys, rest = ["sort_count"], name
    elif key == "service_number":
        keys, rest = ["service_number"], name
    else:
        keys, rest = name, []
    order = [F(k).desc() if descending else F(k).asc() for k in keys]
    order += [F(k).asc() for k in rest]
    return profiles.order_by(*order, "-pk" if descending else "pk")


def _cell(values: dict[str, int]) -> Cell:
    """A cell from `training.tally` counts (the total is the assignments in any state)."""
    total = sum(values[name] for name in ASSIGNMENT_STATES)
    return Cell(total=total, **values)


def _row_units(user: User, unit: Unit | None) -> tuple[list[Unit], bool]:
    """The units to show as rows, and whether `unit` itself is a leaf (then: officers)."""
    if unit is None:
        paths = led_unit_paths(user)
        if paths is None:
            return list(Unit.get_root_nodes()), False
        return list(Unit.objects.filter(path__in=paths).order_by("path")), False
    children = list(unit.get_children().order_by("kind", "name"))
    return children, not children


def completion_matrix(
    user: User,
    *,
    unit: Unit | None = None,
    today: date | None = None,
    page: object = 1,
    per_page: int | None = OFFICERS_PER_PAGE,
    ordering: object = None,
) -> Matrix:
    """The matrix of the units `user` leads (or of `unit`, one of them): a row per child unit,
    or for a team, a row per officer, `per_page` at a time (`page`: any value; one that is not a
    number is the first page, one out of range the last); None: every officer. A team's officers
    are sorted by `ordering` (`officer_ordering`: any value, an unknown one is by name)."""
    today = today or timezone.localdate()
    ordering = officer_ordering(ordering)
    if unit is not None and not user_can_manage_unit(user, unit):
        raise Http404("Not one of your units.")
    courses = list(CoursePage.objects.live().order_by("title"))
    units, leaf = _row_units(user, unit)
    rows: list[Row] = []
    officer_page = None
    if leaf and unit is not None:
        profiles = team_officers(unit, ordering=ordering, today=today)
        if per_page is not None:
            officer_page = Paginator(profiles, per_page).get_page(page)
            profiles = officer_page.object_list
        rows = _officer_rows(unit, today, courses, list(profiles))
        totals = _unit_totals(unit, today, courses)
    else:
        by_path = {u.path: Row(label=u.name, unit=u, drill=True) for u in units}
        direct = Row(label=f"Directly in {unit.name}", unit=unit) if unit else None
        # Officers placed on `unit` itself (not in a child unit) group under its own path.
        lookup = {**by_path, unit.path: direct} if unit is not None else by_path
        for length in sorted({len(u.path) for u in units}):
            roots = [unit.path] if unit else [u.path for u in units if len(u.path) == length]
            counted, as_of = tally_counts(roots=roots, length=length, courses=courses, today=today)
            for (key, course_id), values in counted.items():
                if (row := lookup.get(key)) is not None:
                    row.cell(course_id).add(_cell(values))
            tally_roll_if_behind(as_of=as_of, today=today)
        rows = list(by_path.values())
        if direct is not None and direct.cells:
            rows.append(direct)
        totals = Row(label="All")
        for row in rows:
            for course_id, cell in row.cells.items():
                totals.cell(course_id).add(cell)
    ancestors = list(unit.get_ancestors()) + [unit] if unit is not None else []
    paths = led_unit_paths(user)
    if paths is not None:  # leads do not see (or link to) the units above the ones they lead
        ancestors = [a for a in ancestors if any(a.path.startswith(p) for p in paths)]
    return Matrix(
        unit=unit,
        ancestors=ancestors,
        courses=courses,
        rows=rows,
        totals=totals,
        officer_page=officer_page,
        ordering=ordering,
    )


def _unit_totals(unit: Unit, today: date, courses: list[CoursePage]) -> Row:
    """The "All" row of a team: its officers' assignments and expiring certificates, from the
    tally (`training.tally`), whichever page of officers is shown."""
    totals = Row(label="All")
    length = len(unit.path)
    counted, _as_of = tally_counts(roots=[unit.path], length=length, courses=courses, today=today)
    for (_key, course_id), values in counted.items():
        totals.cell(course_id).add(_cell(values))
    return totals


def _officer_rows(
    unit: Unit, today: date, courses: list[CoursePage], officers: list[OfficerProfile]
) -> list[Row]:
    """One row per officer given (placed on `unit`), each counted against their own outline: a
    course limited to another jurisdiction is not counted, and progress is lessons done of the
    lessons their jurisdiction requires (the outlines computed once per course and
    jurisdiction, then picked per officer)."""
    profiles = {p.user_id: p for p in officers}
    unit_force = unit.get_force()
    jurisdictions = {
        uid: ((p.force or unit_force).jurisdiction or None) for uid, p in profiles.items()
    }
    rows = {uid: Row(label=str(p.user), officer=p) for uid, p in profiles.items()}
    pairs: list[tuple[int, int]] = []
    for a in (
        Assignment.objects.applying()
        .filter(current=True, user_id__in=list(profiles))
        .only("user_id", "course_id", "due_on", "started_at", "completed_at")
    ):
        cell = rows[a.user_id].cell(a.course_id)
        cell.total += 1
        if a.completed_at:
            cell.complete += 1
        elif a.due_on < today:
            cell.overdue += 1
        elif a.started_at:
            cell.in_progress += 1
        else:
            cell.not_started += 1
        if not a.completed_at:
            pairs.append((a.user_id, a.course_id))
    for (user_id, course_id), found in progress_by_officer(
        officers=jurisdictions, pairs=pairs, courses=courses
    ).items():
        cell = rows[user_id].cell(course_id)
        cell.lessons_done = found.progress.done
        cell.lessons_total = found.progress.total
        cell.jurisdiction_unknown = found.jurisdiction_unknown
    for user_id, course_id in (
        Certificate.objects.expiring(on=today)
        .filter(user_id__in=list(profiles))
        .values_list("user_id", "course_id")
    ):
        rows[user_id].cell(course_id).expiring += 1
    return list(rows.values())


JURISDICTION_UNKNOWN_NOTE = "Jurisdiction not set: cannot complete"


MATRIX_HEADING = [
    "Unit or officer",
    "Course",
    "Assigned",
    "Complete",
    "In progress",
    "Not started",
    "Overdue",
    "Expiring",
    "Percent complete",
    "Lessons done",
    "Lessons required",
    "Note",
]


def _matrix_lines(rows: list[Row], courses: list[CoursePage]) -> Iterator[list[object]]:
    for row in rows:
        for course in courses:
            c = row.cells.get(course.pk, Cell())
            yield [
                row.label,
                course.title,
                c.total,
                c.complete,
                c.in_progress,
                c.not_started,
                c.overdue,
                c.expiring,
                c.percent,
                "" if c.lessons_done is None else c.lessons_done,
                "" if c.lessons_total is None else c.lessons_total,
                JURISDICTION_UNKNOWN_NOTE if c.jurisdiction_unknown else "",
            ]


def matrix_csv_rows(matrix: Matrix) -> list[list[object]]:
    """The matrix flattened for CSV/XLSX: one line per row and course."""
    return [MATRIX_HEADING, *_matrix_lines([*matrix.rows, matrix.totals], matrix.courses)]


def matrix_export_rows(
    user: User,
    *,
    unit: Unit | None = None,
    ordering: object = None,
    today: date | None = None,
    chunk_size: int = EXPORT_CHUNK,
) -> Iterator[list[object]]:
    """The matrix as `matrix_csv_rows` flattens it, for an export. A team's officers are read
    from a server-side cursor (`iterator()` on PostgreSQL) and counted `chunk_size` at a time,
    so that a team of any size is exported in the same memory; the "All" row comes last.
    Checks `unit` before returning (Http404), so that an export never fails half-way."""
    today = today or timezone.localdate()
    if unit is not None and not user_can_manage_unit(user, unit):
        raise Http404("Not one of your units.")
    if unit is None or unit.get_children_count():
        return iter(matrix_csv_rows(completion_matrix(user, unit=unit, today=today, per_page=None)))
    return _team_export_rows(unit, officer_ordering(ordering), today, chunk_size)


def matrix_export_size(user: User, *, unit: Unit | None, limit: int) -> int:
    """About how many lines an export of the matrix would have (rows times live courses), a
    team's officers counted only up to `limit` (a LIMIT in the query, never the whole team).
    Http404 for a unit that is not the user's."""
    if unit is not None and not user_can_manage_unit(user, unit):
        raise Http404("Not one of your units.")
    courses = CoursePage.objects.live().count()
    if unit is not None and not unit.get_children_count():
        officers = OfficerProfile.objects.filter(unit=unit)[: limit + 1].count()
        return (officers + 1) * courses
    units, _leaf = _row_units(user, unit)
    return (len(units) + 2) * courses


def _team_export_rows(
    unit: Unit, ordering: str, today: date, chunk_size: int
) -> Iterator[list[object]]:
    courses = list(CoursePage.objects.live().order_by("title"))
    yield MATRIX_HEADING
    officers = team_officers(unit, ordering=ordering, today=today).iterator(chunk_size=chunk_size)
    while chunk := list(islice(officers, chunk_size)):
        yield from _matrix_lines(_officer_rows(unit, today, courses, chunk), courses)
    yield from _matrix_lines([_unit_totals(unit, today, courses)], courses)


# --- Time on lessons ----------------------------------------------------------------------


@dataclass(frozen=True)
class UnitTime:
    median_seconds: int
    timed: int

    @property
    def minutes(self) -> str:
        """The median as minutes and seconds, "4:05"."""
        return f"{self.median_seconds // 60}:{self.median_seconds % 60:02d}"


@dataclass
class LessonTime:
    lesson: LessonPage
    estimate_minutes: int
    by_unit: dict[str, UnitTime] = field(default_factory=dict)


@dataclass
class FastCompletion:
    officer: str
    unit: str
    course: str
    lesson: str
    seconds: int
    estimate_minutes: int
    completed_at: datetime


@dataclass
class TimeReport:
    courses: list[tuple[CoursePage, list[LessonTime]]]
    units: list[str]
    fast: list[FastCompletion]


def lesson_time_report(user: User) -> TimeReport:
    """Time officers in the asker's units spent on each lesson (from first opening it in the
    run to marking it complete): the median per lesson and unit beside the lesson's estimate,
    and the completions far faster than the estimate (`training.rules.completion_too_fast`).
    Leads see their units only; administrators every unit. Three queries."""
    paths = led_unit_paths(user)
    scope = Q() if paths is None else subtree_q(paths, f"enrolment__{OFFICER_UNIT_PATH}")
    rows = (
        LessonCompletion.objects.filter(scope, seconds_spent__isnull=False)
        .order_by("-completed_at")
        .values_list(
            "lesson_id",
            "seconds_spent",
            "completed_at",
            "enrolment__user__officer__unit__name",
            "enrolment__user__first_name",
            "enrolment__user__last_name",
            "enrolment__user__email",
        )
    )
    seconds: dict[int, dict[str, list[int]]] = {}
    timed: list[tuple[Any, ...]] = []
    for row in rows.iterator(chunk_size=2000):
        lesson_id, spent, _at, unit = row[:4]
        seconds.setdefault(lesson_id, {}).setdefault(unit or "–", []).append(spent)
        timed.append(row)
    lessons = {
        lesson.pk: lesson
        for lesson in LessonPage.objects.filter(pk__in=list(seconds)).only(
            "id", "title", "path", "duration_minutes"
        )
    }
    course_paths = {lesson.path[: -2 * Page.steplen] for lesson in lessons.values()}
    courses = {
        c.path: c for c in CoursePage.objects.filter(path__in=course_paths).order_by("title")
    }
    by_course: dict[str, list[LessonTime]] = {}
    units: set[str] = set()
    for lesson in sorted(lessons.values(), key=lambda page: page.path):
        entry = LessonTime(lesson=lesson, estimate_minutes=lesson.duration_minutes)
        for unit, values in seconds[lesson.pk].items():
            entry.by_unit[unit] = UnitTime(int(median(values)), len(values))
            units.add(unit)
        by_course.setdefault(lesson.path[: -2 * Page.steplen], []).append(entry)
    fast = []
    for lesson_id, spent, at, unit, first, last, email in timed:
        lesson = lessons.get(lesson_id)
        if lesson is None or not completion_too_fast(
            seconds=spent, estimate_minutes=lesson.duration_minutes
        ):
            continue
        course = courses.get(lesson.path[: -2 * Page.steplen])
        fast.append(
            FastCompletion(
                officer=f"{first} {last}".strip() or email,
                unit=unit or "–",
                course=course.title if course else "",
                lesson=lesson.title,
                seconds=spent,
                estimate_minutes=lesson.duration_minutes,
                completed_at=at,
            )
        )
    return TimeReport(
        courses=[(c, by_course[path]) for path, c in courses.items() if path in by_course],
        units=sorted(units),
        fast=fast,
    )
