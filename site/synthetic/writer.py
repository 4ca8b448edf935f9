"""Writes a synthetic force's plan (plan.py) to the database, in one transaction.

Rows go in a chunk of officers at a time, with PostgreSQL's COPY (ids drawn from the sequences
first where later rows need them) or `bulk_create` on other databases; either way no `save()`
and no signal runs. What the signals and services would otherwise keep in step comes from the
plan, which applies the apps' own rules, and from the services: certificate numbers are
reserved with `certificates.services.certificate_numbers_reserve`, for each chunk in order of
issue. The unit tree is built as treebeard would build it: the force with `Unit.add_root`, the
rest as rows with the paths treebeard's `Unit._get_path` gives.
"""

from __future__ import annotations

import gc
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone
from wagtail.models import Page

from certificates.models import REFRESHER_LOOKBACK_DAYS, Certificate
from certificates.rules import state_of
from certificates.services import certificate_numbers_reserve
from courses.demo import course_index
from courses.models import CoursePage, Enrolment, LessonCompletion, LessonPage, ModulePage
from officers.models import OfficerProfile, Role, Unit, User
from officers.roles import ensure_role_groups
from pathways.demo import _home_page
from pathways.models import HomePage
from pathways.synthetic.plan import (
    CHUNK,
    DEFAULT_FORCE,
    EMAIL_DOMAIN,
    EMAIL_RE,
    REVOKE_REASON,
    CourseFacts,
    Plan,
    PlannedOfficer,
    UnitKind,
    course_specs,
    email_for,
)
from scenarios.models import Attempt, AttemptChoice, Scenario, engine_for_revision
from training.models import Assignment

BATCH = 2000  # rows per INSERT (bulk_create)

UNIT_KINDS = {
    UnitKind.DIVISION: Unit.Kind.DIVISION,
    UnitKind.TEAM: Unit.Kind.TEAM,
    UnitKind.INTAKE: Unit.Kind.INTAKE,
}


class ForceExists(Exception):
    pass


@dataclass
class SyntheticCourse:
    page: CoursePage
    lesson_ids: list[int]
    created: bool
    pk: int = field(init=False)  # the page's, looked up once (rows need it by the million)
    revision_id: int | None = field(init=False)

    def __post_init__(self) -> None:
        self.pk = self.page.pk
        self.revision_id = self.page.live_revision_id

    def facts(self) -> CourseFacts:
        return CourseFacts(
            validity_months=self.page.validity_months,
            refresher_window_days=self.page.refresher_window_days,
            lessons=len(self.lesson_ids),
        )


def _publish_child(parent: Page, page: Page) -> Page:
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def synthetic_courses(count: int) -> list[SyntheticCourse]:
    """`count` published synthetic courses (2 modules x 3 lessons), reused by slug."""
    home = HomePage.objects.first() or _home_page()
    index = course_index(home)
    result = []
    for spec in course_specs(count):
        course = CoursePage.objects.child_of(index).filter(slug=spec.slug).specific().first()
        created = course is None
        if created:
            course = _publish_child(
                index,
                CoursePage(
                    title=spec.title,
                    slug=spec.slug,
                    summary=spec.summary,
                    audience=spec.audience,
                    duration_minutes=spec.duration_minutes,
                    validity_months=spec.validity_months,
                    refresher_window_days=spec.refresher_window_days,
                    signatory_name=spec.signatory_name,
                    signatory_role=spec.signatory_role,
                ),
            )
            for module_spec in spec.modules:
                module = _publish_child(
                    course, ModulePage(title=module_spec.title, slug=module_spec.slug)
                )
                for lesson in module_spec.lessons:
                    _publish_child(
                        module,
                        LessonPage(
                            title=lesson.title,
                            slug=lesson.slug,
                            summary="Synthetic lesson.",
                            body=[{"type": "text", "value": f"<p>{lesson.text}</p>"}],
                        ),
                    )
        lesson_ids = list(
            LessonPage.objects.descendant_of(course).order_by("path").values_list("pk", flat=True)
        )
        result.append(SyntheticCourse(course, lesson_ids, created))
    return result


def child_path(parent_path: str, step: int) -> str:
    """The path of the `step`-th child (from 1) of the node at `parent_path`, by treebeard."""
    return Unit._get_path(parent_path, len(parent_path) // Unit.steplen + 1, step)


def _next_email_number() -> int:
    highest = 0
    emails = User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).values_list("email", flat=True)
    for email in emails.iterator(chunk_size=10000):
        match = EMAIL_RE.match(email)
        if match:
            highest = max(highest, int(match.group(1)))
    return highest + 1


@dataclass
class _Scenario:
    pk: int
    revision_id: int
    lesson_id: int | None
    engine: object


def _live_scenarios() -> list[_Scenario]:
    placed: dict[int, int] = {}
    for lesson_id, ids in LessonPage.objects.values_list("pk", "scenario_ids"):
        for scenario_id in ids or []:
            placed.setdefault(scenario_id, lesson_id)
    result = []
    for scenario in Scenario.objects.filter(live=True, live_revision__isnull=False).select_related(
        "live_revision"
    ):
        try:
            played = engine_for_revision(scenario.live_revision)
        except Exception:  # noqa: BLE001, S112 - a broken revision is simply not played
            continue
        result.append(
            _Scenario(scenario.pk, scenario.live_revision_id, placed.get(scenario.pk), played)
        )
    return result


class _Writer:
    """Inserts rows given as dicts of attribute names: COPY on PostgreSQL (ids drawn from the
    table's sequence first when asked for), `bulk_create` elsewhere. Either way no model
    `save()` and no signal runs."""

    def __init__(self) -> None:
        self.copy = connection.vendor == "postgresql"

    def insert(self, model: type[models.Model], rows: list[dict], *, ids: bool = False) -> None:
        if not rows:
            return
        if not self.copy:
            known = {f.attname for f in model._meta.concrete_fields}
            objects = [model(**{k: v for k, v in row.items() if k in known}) for row in rows]
            model.objects.bulk_create(objects, batch_size=BATCH)
            if ids:
                for row, obj in zip(rows, objects, strict=True):
                    row["id"] = obj.pk
            return
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            if ids:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, meta.pk.column, len(rows)],
                )
                for row, (value,) in zip(rows, cursor.fetchall(), strict=True):
                    row[meta.pk.attname] = value
                fields = [meta.pk, *fields]
            names = [f.attname for f in fields]
            defaults = [None if f.primary_key else f.get_default() for f in fields]
            # A callable default (a random seed) is called for every row, as Django would.
            per_row = {f.attname: f for f in fields if not f.primary_key and callable(f.default)}
            pairs = list(zip(names, defaults, strict=True))
            columns = ", ".join(quote(f.column) for f in fields)
            sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(
                        [
                            row[name]
                            if name in row
                            else (per_row[name].get_default() if name in per_row else default)
                            for name, default in pairs
                        ]
                    )


@dataclass
class Counts:
    units: int = 0
    officers: int = 0
    training_leads: int = 0
    courses_created: int = 0
    courses_reused: int = 0
    assignments: int = 0
    current_assignments: int = 0
    refresher_assignments: int = 0
    enrolments_completed: int = 0
    enrolments_open: int = 0
    lesson_completions: int = 0
    certificates: int = 0
    certificate_states: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    attempts_passed: int = 0
    attempt_choices: int = 0
    seconds: float = 0.0


@dataclass
class _Context:
    """What every chunk needs: the force, its units, the courses, the clock."""

    plan: Plan
    force_id: int
    force_name: str
    unit_paths: list[str]  # by the plan's unit index
    unit_ids: list[int]
    courses: list[SyntheticCourse]
    groups: dict[Role, int]
    first_email: int
    password: str
    scenarios: list[_Scenario]
    writer: _Writer
    counts: Counts


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while chunks are planned and written. The plan is hundreds
    of thousands of small objects a chunk, which reference counting frees (none is in a cycle);
    left on, the collector would scan them, and everything Django holds, again and again (a
    third more CPU for the whole run)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def generate(
    *,
    officers: int,
    courses: int = 10,
    seed: int = 1,
    force_name: str = DEFAULT_FORCE,
    now: datetime | None = None,
    chunk: int = CHUNK,
    progress: Callable[[str], None] | None = None,
) -> Counts:
    """Create a synthetic force of `officers` officers doing `courses` courses. Refuses (with
    ForceExists) when a force of that name exists. One transaction: all or nothing."""
    started = time.monotonic()
    if officers < 1:
        raise ValueError("officers must be at least 1")
    if Unit.objects.filter(depth=1, name=force_name).exists():
        raise ForceExists(f"force {force_name!r} already exists; use another --force-name")
    say = progress or (lambda message: None)
    counts = Counts()

    with transaction.atomic():
        groups = {role: group.pk for role, group in ensure_role_groups().items()}
        course_list = synthetic_courses(courses)
        counts.courses_created = sum(c.created for c in course_list)
        counts.courses_reused = len(course_list) - counts.courses_created
        say(f"courses ready ({counts.courses_created} new) after {time.monotonic() - started:.1f}s")
        scenarios = _live_scenarios()
        plan = Plan(
            officers=officers,
            force_name=force_name,
            courses=[course.facts() for course in course_list],
            now=now or timezone.now(),
            tz=timezone.get_current_timezone(),
            refresher_lookback_days=REFRESHER_LOOKBACK_DAYS,
            scenarios=[scenario.engine for scenario in scenarios],
            seed=seed,
        )

        if connection.vendor == "postgresql":
            # Check foreign keys as rows go in, not all at once at commit.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

        # Units: the force through treebeard, everything under it as rows with their paths.
        force = Unit.add_root(name=force_name, kind=Unit.Kind.FORCE)
        paths: list[str] = []
        for unit in plan.units:
            paths.append(
                child_path(force.path if unit.parent is None else paths[unit.parent], unit.step)
            )
        Unit.objects.bulk_create(
            [
                Unit(
                    path=path,
                    depth=len(path) // Unit.steplen,
                    numchild=unit.children,
                    name=unit.name,
                    kind=UNIT_KINDS[unit.kind],
                )
                for unit, path in zip(plan.units, paths, strict=True)
            ],
            batch_size=BATCH,
        )
        Unit.objects.filter(pk=force.pk).update(numchild=plan.force_children)
        by_path = dict(Unit.objects.filter(path__startswith=force.path).values_list("path", "pk"))
        counts.units = len(paths) + 1

        context = _Context(
            plan=plan,
            force_id=force.pk,
            force_name=force_name,
            unit_paths=paths,
            unit_ids=[by_path[path] for path in paths],
            courses=course_list,
            groups=groups,
            first_email=_next_email_number(),
            password=make_password(None),
            scenarios=scenarios,
            writer=_Writer(),
            counts=counts,
        )
        written = 0
        with _collector_paused():
            for planned in plan.chunks(chunk):
                _write_officers(context, planned)
                written += len(planned)
                say(f"{written:,} officers after {time.monotonic() - started:.1f}s")
        say(f"committing after {time.monotonic() - started:.1f}s")

    counts.certificate_states = dict(sorted(counts.certificate_states.items()))
    counts.seconds = time.monotonic() - started
    return counts


def _write_officers(c: _Context, officers: list[PlannedOfficer]) -> None:
    """Accounts, profiles and roles of these officers, then their progress and attempts."""
    counts, insert = c.counts, c.writer.insert
    users = [
        {
            "email": email_for(c.first_email + officer.index),
            "first_name": officer.first_name,
            "last_name": officer.last_name,
            "password": c.password,
            "date_joined": officer.joined_at,
        }
        for officer in officers
    ]
    insert(User, users, ids=True)
    profiles, members, lead_users = [], [], {}
    for officer, user in zip(officers, users, strict=True):
        if officer.leads is not None:
            role = Role.TRAINING_LEAD
            lead_users[user["id"]] = c.unit_ids[officer.leads]
        else:
            role = Role.LEARNER
        profiles.append(
            {
                "user_id": user["id"],
                "service_number": officer.service_number,
                "force_id": c.force_id,
                "unit_id": c.unit_ids[officer.unit],
                "rank": officer.rank,
            }
        )
        members.append({"user_id": user["id"], "group_id": c.groups[role]})
    insert(OfficerProfile, profiles)
    insert(User.groups.through, members)
    if lead_users:
        led = OfficerProfile.objects.filter(user_id__in=list(lead_users)).values_list(
            "pk", "user_id"
        )
        insert(
            OfficerProfile.led_units.through,
            [{"officerprofile_id": pk, "unit_id": lead_users[user_id]} for pk, user_id in led],
        )
    counts.officers += len(users)
    counts.training_leads += len(lead_users)
    _write_progress(c, officers, users)
    if c.scenarios:
        _write_attempts(c, officers, users)


def _write_progress(c: _Context, officers: list[PlannedOfficer], users: list[dict]) -> None:
    """Enrolments, lesson completions, certificates and assignments of these officers."""
    insert, counts = c.writer.insert, c.counts
    pairs = [
        (officer, user, progress, c.courses[progress.course])
        for officer, user in zip(officers, users, strict=True)
        for progress in officer.progress
    ]

    # Enrolments (each pair's runs, as rows in the same order) and lesson completions.
    runs_of = [
        [
            {
                "user_id": user["id"],
                "course_id": course.pk,
                "started_at": run.started_at,
                "completed_at": run.completed_at,
                "passes_count_after": run.passes_count_after,
                "completed_revision_id": course.revision_id
                if run.completed_at is not None
                else None,
            }
            for run in progress.runs
        ]
        for _officer, user, progress, course in pairs
    ]
    enrolments = [row for rows in runs_of for row in rows]
    insert(Enrolment, enrolments, ids=True)
    completions = [
        {"enrolment_id": row["id"], "lesson_id": course.lesson_ids[n], "completed_at": moment}
        for rows, (_officer, _user, progress, course) in zip(runs_of, pairs, strict=True)
        for row, run in zip(rows, progress.runs, strict=True)
        for n, moment in enumerate(run.lessons)
    ]
    insert(LessonCompletion, completions)

    # Certificates, with the snapshot certificate_issue would take.
    certs_of = []
    for rows, (officer, user, progress, course) in zip(runs_of, pairs, strict=True):
        page = course.page
        certs = []
        for cert in progress.certificates:
            row = {
                "code": secrets.token_urlsafe(15),
                "user_id": user["id"],
                "course_id": course.pk,
                "enrolment_id": rows[cert.run]["id"],
                "course_revision_id": course.revision_id,
                "issued_at": cert.issued_at,
                "expires_on": cert.expires_on,
                "refresher_window_days": cert.refresher_window_days,
                # Certificate.save() would set this; bulk inserts do not call save().
                "refresher_from": cert.refresher_from,
                "officer_name": f"{user['first_name']} {user['last_name']}",
                "service_number": officer.service_number,
                "force_name": c.force_name,
                "course_title": page.title,
                "signatory_name": page.signatory_name,
                "signatory_role": page.signatory_role,
            }
            if cert.revoked_at is not None:
                row["revoked_at"] = cert.revoked_at
                row["revoke_reason"] = REVOKE_REASON
            certs.append(row)
        certs_of.append(certs)
    _number([row for rows in certs_of for row in rows], c.plan.tz)
    # Newest first, so that a superseded certificate's replacement is already in.
    longest = max((len(rows) for rows in certs_of), default=0)
    for back in range(1, longest + 1):
        batch = []
        for rows, (_officer, _user, progress, _course) in zip(certs_of, pairs, strict=True):
            if len(rows) < back:
                continue
            row, cert = rows[-back], progress.certificates[-back]
            if cert.superseded_by is not None:
                row["superseded_by_id"] = rows[cert.superseded_by]["id"]
            batch.append(row)
        insert(Certificate, batch, ids=True)

    # Assignments, on the officer's unit path.
    assignments = []
    for certs, (officer, user, progress, course) in zip(certs_of, pairs, strict=True):
        unit_path = c.unit_paths[officer.unit]
        for planned in progress.assignments:
            row = {
                "user_id": user["id"],
                "course_id": course.pk,
                "kind": Assignment.Kind.ASSIGNED,
                "assigned_at": planned.assigned_at,
                "due_on": planned.due_on,
                "unit_path": unit_path,
                "started_at": planned.started_at,
                "completed_at": planned.completed_at,
                "current": planned.current,
            }
            if planned.refresher_of is not None:
                row["kind"] = Assignment.Kind.REFRESHER
                row["source_certificate_id"] = certs[planned.refresher_of]["id"]
            assignments.append(row)
    insert(Assignment, assignments)

    counts.assignments += len(assignments)
    counts.current_assignments += sum(a["current"] for a in assignments)
    counts.refresher_assignments += sum(a["kind"] == Assignment.Kind.REFRESHER for a in assignments)
    counts.enrolments_completed += sum(e["completed_at"] is not None for e in enrolments)
    counts.enrolments_open += sum(e["completed_at"] is None for e in enrolments)
    counts.lesson_completions += len(completions)
    states = counts.certificate_states
    today = c.plan.today
    for _officer, _user, progress, _course in pairs:
        for cert in progress.certificates:
            state = state_of(
                today=today,
                expires_on=cert.expires_on,
                refresher_window_days=cert.refresher_window_days,
                revoked=cert.revoked_at is not None,
                superseded=cert.superseded_by is not None,
            ).value
            states[state] = states.get(state, 0) + 1
            counts.certificates += 1


def _number(certificates: list[dict], tz: tzinfo) -> None:
    """Certificate numbers in order of issue, reserved from the series of the year of issue
    (local time, as `certificate_issue` does) under its row lock until the transaction ends,
    years in order."""
    by_year: dict[int, list[dict]] = {}
    for cert in sorted(certificates, key=lambda cert: cert["issued_at"]):
        by_year.setdefault(timezone.localtime(cert["issued_at"], tz).year, []).append(cert)
    for year in sorted(by_year):
        rows = by_year[year]
        for row, number in zip(
            rows, certificate_numbers_reserve(year=year, count=len(rows)), strict=True
        ):
            row["number"] = number


def _write_attempts(c: _Context, officers: list[PlannedOfficer], users: list[dict]) -> None:
    """The officers' finished attempts on the live scenarios' live revisions."""
    attempts: list[dict] = []
    taken_by: list[list[dict]] = []
    for officer, user in zip(officers, users, strict=True):
        for planned in officer.attempts:
            scenario = c.scenarios[planned.scenario]
            state, result = planned.state, planned.result
            attempts.append(
                {
                    "user_id": user["id"],
                    "scenario_id": scenario.pk,
                    "revision_id": scenario.revision_id,
                    "lesson_id": scenario.lesson_id,
                    "started_at": planned.started_at,
                    "finished_at": planned.finished_at,
                    "current_step": state.current,
                    "score": state.score,
                    "critical": state.critical,
                    "outcome": result.outcome,
                    "percent": result.percent,
                    "passed": result.passed,
                }
            )
            taken_by.append(
                [
                    {
                        "position": position,
                        "step": choice.step,
                        "choice_index": choice.choice_index,
                        "choice_id": choice.choice_id,
                        "points": choice.points,
                        "critical": choice.critical,
                        "chosen_at": moment,
                    }
                    for position, (choice, moment) in enumerate(
                        zip(state.path, planned.chosen_at, strict=True)
                    )
                ]
            )
    c.writer.insert(Attempt, attempts, ids=True)
    rows = []
    for attempt, taken in zip(attempts, taken_by, strict=True):
        for choice in taken:
            choice["attempt_id"] = attempt["id"]
            rows.append(choice)
    c.writer.insert(AttemptChoice, rows)
    c.counts.attempts += len(attempts)
    c.counts.attempts_passed += sum(bool(a["passed"]) for a in attempts)
    c.counts.attempt_choices += len(rows)
