"""Synthetic data at scale, for benchmarks: a force with its units and officers, courses, and
each officer's assignments, progress, certificates and scenario attempts.

Used by `manage.py generate_synthetic`. Rows are written in chunks of officers, inside one
transaction, with PostgreSQL's COPY (ids drawn from the sequences first where later rows need
them) or `bulk_create` on other databases; either way no `save()` and no signal runs, so this
module keeps by hand what the signals and services would otherwise keep in step (assignment unit
paths, start and completion dates, certificate numbers and `refresher_from`, supersession,
refresher assignments, the number series). The unit tree is built as treebeard would build it:
the force with `Unit.add_root`, the rest as rows with their materialised paths.

The shape of the data (all proportions of officer/course pairs, drawn with `random.Random(seed)`):

- about 25 officers a team, about 10 teams a division, plus two recruit intakes (2% of the
  officers each, at most 250); one training lead per division, leading that division;
- 90% of pairs assigned; of those, 55% completed, 20% in progress (an open enrolment with 1-4
  lessons done), the rest not started;
- of the completed: about 5% of current certificates inside their refresher window, 12%
  expired (within the last year), 4% renewed once (an older certificate superseded by the newer,
  with the refresher assignment that led to it), 0.5% revoked. As `refresher_assignments_sync`
  would, an expiring or expired certificate has a current refresher assignment, due on its expiry
  date, and the assignment it completed is no longer current;
- completed enrolments carry no lesson completions (the completion is what counts, and it keeps
  the row count down);
- when a live scenario exists, 10% of the officers who started a course have one or two finished
  attempts on its live revision, played through the scenario engine.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone
from wagtail.models import Page

from certificates.models import Certificate, NumberSeries
from certificates.rules import add_months, expiry_for, format_number, state_of
from courses.models import (
    Assignment,
    CoursePage,
    Enrolment,
    LessonCompletion,
    LessonPage,
    ModulePage,
)
from officers.models import OfficerProfile, Role, Unit, User

DEFAULT_FORCE = "Synthetic Constabulary"
EMAIL_DOMAIN = "synthetic.police.uk"
EMAIL_RE = re.compile(r"^synthetic\.(\d+)@" + re.escape(EMAIL_DOMAIN) + "$")
COURSE_SLUG = "synthetic-{:02d}"

TEAM_SIZE = 25
TEAMS_PER_DIVISION = 10
INTAKE_SHARE = 50  # each intake holds 1/50 of the officers...
INTAKE_MAX = 250  # ...up to this many
MODULES = 2
LESSONS = 3
REFRESHER_WINDOW_DAYS = 60

ASSIGNED = 0.90
COMPLETED = 0.55
IN_PROGRESS = 0.20
EXPIRING = 0.05
EXPIRED = 0.12
RENEWED = 0.04
REVOKED = 0.005
ATTEMPTERS = 0.10

CHUNK = 2000  # officers per round of bulk inserts
BATCH = 2000  # rows per INSERT

GIVEN = (  # noqa: SIM905
    "Ewan Kirsty Jamie Priya Liam Eilidh Tomasz Hannah Ross Niamh Graeme Sana Craig Rachel "
    "Euan Chloe Arjun Lorna Stuart Megan Kyle Zofia Andrew Iona Malik Catriona Scott Leah "
    "Neil Amira Rhys Siobhan Dafydd Aoife Kwame Fatima Oliver Grace"
).split()
FAMILY = (  # noqa: SIM905
    "Campbell Stewart Robertson Thomson Anderson Murray Kowalski Reid Ross Paterson Gray "
    "Hussain Kerr Duncan Hamilton Wallace Patel Ferguson Black Docherty Grant Nowak Mackay "
    "Burns Ahmed Bell Scott Walker Watson Cameron Jones Evans Okafor Singh Byrne Kelly "
    "Hughes Price Lewis"
).split()
RANKS = (
    ("Constable", 78),
    ("Detective Constable", 8),
    ("Sergeant", 10),
    ("Inspector", 3),
    ("Chief Inspector", 1),
)
TEAM_KINDS = ("Response", "Community", "CID", "Roads Policing", "Custody", "Public Protection")
TOPICS = (
    "Trauma-informed practice",
    "Naloxone and opioid overdose",
    "Reducing stigma in everyday policing",
    "Recorded police warnings",
    "Diversion into treatment",
    "Mental health and vulnerability",
    "Harm reduction on the street",
    "Working with outreach services",
    "Language and handovers",
    "Custody and substance use",
)


# --------------------------------------------------------------------- plain planning (no DB)


@dataclass(frozen=True)
class UnitRow:
    """One unit to insert: its tree path and place, and which officers belong to it."""

    path: str
    depth: int
    numchild: int
    name: str
    kind: str


@dataclass
class UnitPlan:
    divisions: int
    teams: int
    intake_size: int
    regular: int
    # team index -> division index
    team_division: list[int] = field(default_factory=list)


def unit_plan(officers: int) -> UnitPlan:
    """How many divisions, teams and recruits a force of `officers` has."""
    intake_size = min(INTAKE_MAX, officers // INTAKE_SHARE)
    regular = officers - 2 * intake_size
    teams = max(1, math.ceil(regular / TEAM_SIZE))
    divisions = max(1, math.ceil(teams / TEAMS_PER_DIVISION))
    team_division = [t * divisions // teams for t in range(teams)]
    return UnitPlan(divisions, teams, intake_size, regular, team_division)


def step_path(parent_path: str, step: int) -> str:
    """The path of the `step`-th child (from 1) of the node at `parent_path`, as treebeard's
    MP_Node builds it: 4 base-36 digits per level."""
    return Unit._get_path(parent_path, len(parent_path) // Unit.steplen + 1, step)


def _division_name(index: int) -> str:
    if index < 26:
        return f"{chr(ord('A') + index)} Division"
    return f"Division {index + 1}"


def unit_rows(force_path: str, plan: UnitPlan, year: int) -> tuple[list[UnitRow], list[str]]:
    """Rows for every unit under the force (divisions, their teams, two intakes), and the
    path of each team in team order followed by the two intakes'."""
    rows: list[UnitRow] = []
    teams_of: list[list[int]] = [[] for _ in range(plan.divisions)]
    for team, division in enumerate(plan.team_division):
        teams_of[division].append(team)
    team_paths: list[str] = [""] * plan.teams
    for d in range(plan.divisions):
        d_path = step_path(force_path, d + 1)
        d_name = _division_name(d)
        rows.append(UnitRow(d_path, 2, len(teams_of[d]), d_name, Unit.Kind.DIVISION))
        short = d_name.removesuffix(" Division")
        for local, team in enumerate(teams_of[d]):
            t_path = step_path(d_path, local + 1)
            kind = TEAM_KINDS[local % len(TEAM_KINDS)]
            name = f"{short} {kind} {local // len(TEAM_KINDS) + 1}"
            rows.append(UnitRow(t_path, 3, 0, name, Unit.Kind.TEAM))
            team_paths[team] = t_path
    intake_paths = []
    for i in (1, 2):
        path = step_path(force_path, plan.divisions + i)
        rows.append(UnitRow(path, 2, 0, f"Recruit intake {year}-{i}", Unit.Kind.INTAKE))
        intake_paths.append(path)
    return rows, team_paths + intake_paths


def officer_unit_index(index: int, plan: UnitPlan) -> int:
    """Where officer `index` (from 0) belongs: a team number, or `teams` and `teams + 1` for
    the two intakes (the officers after the regular ones)."""
    if index < plan.regular:
        return index * plan.teams // plan.regular
    return plan.teams + (index - plan.regular) // max(1, plan.intake_size)


def division_lead_indexes(plan: UnitPlan) -> dict[int, int]:
    """Officer index -> division index: the first officer of each division's first team."""
    first_team: dict[int, int] = {}
    for team, division in enumerate(plan.team_division):
        first_team.setdefault(division, team)
    leads = {}
    for division, team in first_team.items():
        # The first officer whose team is `team`: ceil(team * regular / teams).
        index = -(-team * plan.regular // plan.teams)
        if index < plan.regular:
            leads[index] = division
    return leads


def force_prefix(name: str) -> str:
    letters = "".join(word[0] for word in re.findall(r"[A-Za-z0-9]+", name)).upper()
    return (letters or "SYN")[:6]


@dataclass(frozen=True)
class CertPlan:
    issued_on: date
    expires_on: date | None


def certificate_chain(
    rng: random.Random, *, today: date, validity_months: int | None, window_days: int
) -> tuple[list[CertPlan], bool]:
    """The certificates one officer earned for one course, oldest first, and whether the last
    is revoked. The last one's state is drawn: expiring, expired, or valid; sometimes an older
    one was renewed inside its refresher window (and so is superseded)."""
    if validity_months is None:
        issued = today - timedelta(days=rng.randint(1, 3 * 365))
        return [CertPlan(issued, None)], rng.random() < REVOKED
    draw = rng.random()
    if draw < EXPIRING:
        expires = today + timedelta(days=rng.randint(0, max(0, window_days - 1)))
        revoked = False
    elif draw < EXPIRING + EXPIRED:
        expires = today - timedelta(days=rng.randint(1, 364))
        revoked = False
    else:
        # valid: expiry after the window, issue within the last 3 years and before today
        latest = min(add_months(today, validity_months), today + timedelta(days=3 * 365))
        earliest = today + timedelta(days=window_days + 1)
        span = max(0, (latest - earliest).days - 1)
        expires = earliest + timedelta(days=rng.randint(0, span))
        revoked = rng.random() < REVOKED / (1 - EXPIRING - EXPIRED)
    issued = min(add_months(expires, -validity_months), today - timedelta(days=1))
    chain = [CertPlan(issued, expiry_for(issued, validity_months))]
    if rng.random() < RENEWED:
        # renewed inside the older certificate's refresher window
        old_expires = issued + timedelta(days=rng.randint(0, max(0, window_days - 1)))
        old_issued = add_months(old_expires, -validity_months)
        chain.insert(0, CertPlan(old_issued, expiry_for(old_issued, validity_months)))
    return chain, revoked


# --------------------------------------------------------------------------------- the DB


class ForceExists(Exception):
    pass


@dataclass
class SyntheticCourse:
    page: CoursePage
    lesson_ids: list[int]
    created: bool


def _publish_child(parent: Page, page: Page) -> Page:
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def synthetic_courses(count: int) -> list[SyntheticCourse]:
    """`count` published synthetic courses (2 modules x 3 lessons), reused by slug."""
    from courses.demo import course_index
    from pathways.demo import _home_page
    from pathways.models import HomePage

    home = HomePage.objects.first() or _home_page()
    index = course_index(home)
    result = []
    for i in range(count):
        slug = COURSE_SLUG.format(i + 1)
        topic = TOPICS[i % len(TOPICS)]
        course = CoursePage.objects.child_of(index).filter(slug=slug).specific().first()
        created = course is None
        if created:
            course = _publish_child(
                index,
                CoursePage(
                    title=f"{topic} (synthetic {i + 1})",
                    slug=slug,
                    summary=f"Synthetic course {i + 1} for benchmarks: {topic.lower()}.",
                    audience="Frontline officers",
                    duration_minutes=60,
                    validity_months=36 if i % 2 else 12,
                    refresher_window_days=REFRESHER_WINDOW_DAYS,
                    signatory_name="Chief Superintendent A. Example",
                    signatory_role="Head of Training",
                ),
            )
            for m in range(1, MODULES + 1):
                module = _publish_child(
                    course,
                    ModulePage(title=f"{topic}: module {m}", slug=f"module-{m}"),
                )
                for n in range(1, LESSONS + 1):
                    title = f"{topic}: lesson {m}.{n}"
                    _publish_child(
                        module,
                        LessonPage(
                            title=title,
                            slug=f"lesson-{m}-{n}",
                            summary="Synthetic lesson.",
                            body=[{"type": "text", "value": f"<p>Teaching text: {title}.</p>"}],
                        ),
                    )
        lesson_ids = list(
            LessonPage.objects.descendant_of(course).order_by("path").values_list("pk", flat=True)
        )
        result.append(SyntheticCourse(course, lesson_ids, created))
    return result


def _next_email_number() -> int:
    highest = 0
    emails = User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).values_list("email", flat=True)
    for email in emails.iterator(chunk_size=10000):
        match = EMAIL_RE.match(email)
        if match:
            highest = max(highest, int(match.group(1)))
    return highest + 1


def _at(day: date, rng: random.Random, tz: object) -> datetime:
    """A working-hours moment on this local day."""
    moment = datetime.combine(day, dtime(8, 0)) + timedelta(seconds=rng.randint(0, 10 * 3600))
    return timezone.make_aware(moment, tz)


@dataclass
class _Scenario:
    pk: int
    revision_id: int
    lesson_id: int | None
    engine: object


def _live_scenarios() -> list[_Scenario]:
    from scenarios.models import Scenario, engine_for_revision

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


def _play(rng: random.Random, played: object) -> tuple[object, object] | None:
    """A random walk through a scenario, mostly taking the best-scoring choice."""
    from scenarios import engine

    state = engine.start(played)
    for _ in range(100):
        if state.finished:
            return state, engine.result(played, state)
        step = played.step(state.current)
        if rng.random() < 0.85:
            index = max(range(len(step.choices)), key=lambda i: step.choices[i].points)
        else:
            index = rng.randrange(len(step.choices))
        state = engine.choose(played, state, step=state.current, choice=index)
    return None


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(total, start + size)


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
            pairs = list(zip(names, defaults, strict=True))
            columns = ", ".join(quote(f.column) for f in fields)
            sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row([row.get(name, default) for name, default in pairs])


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
    """What every chunk needs: the force, its plan and units, the courses, the clock."""

    rng: random.Random
    now: datetime
    today: date
    tz: object
    force_id: int
    force_name: str
    prefix: str
    plan: UnitPlan
    unit_paths: list[str]  # by officer unit index: teams, then the two intakes
    unit_ids: list[int]
    division_ids: list[int]
    leads: dict[int, int]  # officer index -> division index
    courses: list[SyntheticCourse]
    groups: dict[Role, int]
    first_email: int
    password: str
    scenarios: list[_Scenario]
    serial: dict[int, int]  # year -> last certificate serial used
    writer: _Writer
    counts: Counts


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
    from officers.roles import ensure_role_groups

    started = time.monotonic()
    if officers < 1:
        raise ValueError("officers must be at least 1")
    if Unit.objects.filter(depth=1, name=force_name).exists():
        raise ForceExists(f"force {force_name!r} already exists; use another --force-name")
    say = progress or (lambda message: None)
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts = Counts()

    with transaction.atomic():
        groups = {role: group.pk for role, group in ensure_role_groups().items()}
        course_list = synthetic_courses(courses)
        counts.courses_created = sum(c.created for c in course_list)
        counts.courses_reused = len(course_list) - counts.courses_created
        say(f"courses ready ({counts.courses_created} new) after {time.monotonic() - started:.1f}s")

        if connection.vendor == "postgresql":
            # Check foreign keys as rows go in, not all at once at commit.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

        # Units: the force through treebeard, everything under it as rows with their paths.
        force = Unit.add_root(name=force_name, kind=Unit.Kind.FORCE)
        plan = unit_plan(officers)
        rows, unit_paths = unit_rows(force.path, plan, today.year)
        Unit.objects.bulk_create(
            [
                Unit(path=r.path, depth=r.depth, numchild=r.numchild, name=r.name, kind=r.kind)
                for r in rows
            ],
            batch_size=BATCH,
        )
        Unit.objects.filter(pk=force.pk).update(numchild=plan.divisions + 2)
        by_path = dict(Unit.objects.filter(path__startswith=force.path).values_list("path", "pk"))
        counts.units = len(rows) + 1

        # Certificate numbers: lock every year's series until the end (rows for past years
        # that have none are made at the end; only this year's is ever made by live issuing).
        NumberSeries.objects.get_or_create(year=today.year)
        serial = dict(NumberSeries.objects.select_for_update().values_list("year", "last"))

        context = _Context(
            rng=random.Random(seed),
            now=now,
            today=today,
            tz=timezone.get_current_timezone(),
            force_id=force.pk,
            force_name=force_name,
            prefix=force_prefix(force_name),
            plan=plan,
            unit_paths=unit_paths,
            unit_ids=[by_path[p] for p in unit_paths],
            division_ids=[by_path[r.path] for r in rows if r.kind == Unit.Kind.DIVISION],
            leads=division_lead_indexes(plan),
            courses=course_list,
            groups=groups,
            first_email=_next_email_number(),
            password=make_password(None),
            scenarios=_live_scenarios(),
            serial=serial,
            writer=_Writer(),
            counts=counts,
        )
        for lo, hi in _chunks(officers, chunk):
            _officers_chunk(context, lo, hi)
            say(f"{hi:,} officers after {time.monotonic() - started:.1f}s")

        for year, last in serial.items():
            NumberSeries.objects.update_or_create(year=year, defaults={"last": last})
        say(f"committing after {time.monotonic() - started:.1f}s")

    counts.certificate_states = dict(sorted(counts.certificate_states.items()))
    counts.seconds = time.monotonic() - started
    return counts


def _officers_chunk(c: _Context, lo: int, hi: int) -> None:
    """Officers number lo to hi-1: accounts, profiles, roles, then their progress."""
    rng, counts, insert = c.rng, c.counts, c.writer.insert
    users = [
        {
            "email": f"synthetic.{c.first_email + i}@{EMAIL_DOMAIN}",
            "first_name": GIVEN[rng.randrange(len(GIVEN))],
            "last_name": FAMILY[rng.randrange(len(FAMILY))],
            "password": c.password,
            "date_joined": c.now - timedelta(days=rng.randint(30, 3000)),
        }
        for i in range(lo, hi)
    ]
    insert(User, users, ids=True)
    rank_names = [r for r, _ in RANKS]
    rank_weights = [w for _, w in RANKS]
    profiles, members, lead_users = [], [], {}
    for i, user in zip(range(lo, hi), users, strict=True):
        place = officer_unit_index(i, c.plan)
        user["unit_path"] = c.unit_paths[place]
        if i in c.leads:
            rank, role = "Inspector", Role.TRAINING_LEAD
            lead_users[user["id"]] = c.division_ids[c.leads[i]]
        elif place >= c.plan.teams:
            rank, role = "Probationary Constable", Role.LEARNER
        else:
            rank, role = rng.choices(rank_names, rank_weights)[0], Role.LEARNER
        user["service_number"] = f"{c.prefix}{i + 1:06d}"
        profiles.append(
            {
                "user_id": user["id"],
                "service_number": user["service_number"],
                "force_id": c.force_id,
                "unit_id": c.unit_ids[place],
                "rank": rank,
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
    _progress(c, users)


def _progress(c: _Context, users: list[dict]) -> None:
    """Assignments, enrolments, lesson completions, certificates and attempts of these users."""
    rng, now, today, tz, insert = c.rng, c.now, c.today, c.tz, c.writer.insert
    enrolments: list[dict] = []
    open_runs: list[tuple[dict, int, SyntheticCourse]] = []  # enrolment, lessons done, course
    done_pairs: list[tuple[dict, SyntheticCourse, list[dict], bool]] = []
    assignments: list[dict] = []
    starters: list[int] = []
    for user in users:
        started_any = False
        for course in c.courses:
            if rng.random() >= ASSIGNED:
                continue
            page = course.page
            draw = rng.random()
            if draw < COMPLETED:
                chain, revoked = certificate_chain(
                    rng,
                    today=today,
                    validity_months=page.validity_months,
                    window_days=page.refresher_window_days,
                )
                runs, previous = [], None
                for cert in chain:
                    done_at = _at(cert.issued_on, rng, tz)
                    run = {
                        "user_id": user["id"],
                        "course_id": page.pk,
                        "started_at": done_at
                        - timedelta(days=rng.randint(0, 20), seconds=rng.randint(600, 20000)),
                        "completed_at": done_at,
                        "passes_count_after": previous,
                        "completed_revision_id": page.live_revision_id,
                        "expires_on": cert.expires_on,  # not a column: read below
                    }
                    runs.append(run)
                    previous = done_at
                enrolments.extend(runs)
                done_pairs.append((user, course, runs, revoked))
                started_any = True
                continue
            due_on = today + timedelta(days=rng.randint(-90, 90))
            assigned_at = min(now, _at(due_on - timedelta(days=rng.randint(30, 120)), rng, tz))
            assignment = {
                "user_id": user["id"],
                "course_id": page.pk,
                "kind": Assignment.Kind.ASSIGNED,
                "assigned_at": assigned_at,
                "due_on": due_on,
                "unit_path": user["unit_path"],
                "current": True,
            }
            if draw < COMPLETED + IN_PROGRESS:
                span = max(3601, int((now - assigned_at).total_seconds()))
                begun = max(assigned_at, now - timedelta(seconds=rng.randint(3600, span)))
                assignment["started_at"] = begun
                run = {"user_id": user["id"], "course_id": page.pk, "started_at": begun}
                enrolments.append(run)
                open_runs.append((run, rng.randint(1, 4), course))
                started_any = True
            assignments.append(assignment)
        if started_any:
            starters.append(user["id"])

    expiries = [run.pop("expires_on", None) for run in enrolments]
    insert(Enrolment, enrolments, ids=True)
    for run, expires_on in zip(enrolments, expiries, strict=True):
        if run.get("completed_at") is not None:
            run["expires_on"] = expires_on

    completions = []
    for run, done, course in open_runs:
        moment = run["started_at"]
        for lesson_id in course.lesson_ids[:done]:
            moment = min(now, moment + timedelta(minutes=rng.randint(5, 60 * 24 * 7)))
            completions.append(
                {"enrolment_id": run["id"], "lesson_id": lesson_id, "completed_at": moment}
            )
    insert(LessonCompletion, completions)

    certificates = _certificates(c, done_pairs)
    assignments.extend(_completed_assignments(c, done_pairs))
    insert(Assignment, assignments)

    counts = c.counts
    counts.assignments += len(assignments)
    counts.current_assignments += sum(a["current"] for a in assignments)
    counts.refresher_assignments += sum(a["kind"] == Assignment.Kind.REFRESHER for a in assignments)
    counts.enrolments_completed += sum(e.get("completed_at") is not None for e in enrolments)
    counts.enrolments_open += sum(e.get("completed_at") is None for e in enrolments)
    counts.lesson_completions += len(completions)
    counts.certificates += len(certificates)
    if c.scenarios:
        _attempts(c, starters)


def _certificates(c: _Context, done_pairs: list) -> list[dict]:
    """One certificate per completed run, numbered in order of issue, the older of a pair
    superseded by the newer; the newest sometimes revoked. Stored on each run as "cert"."""
    rng, tz, today = c.rng, c.tz, c.today
    newest, older = [], []
    for user, course, runs, revoked in done_pairs:
        page = course.page
        for position, run in enumerate(runs):
            expires_on = run["expires_on"]
            window = page.refresher_window_days
            cert = {
                "code": secrets.token_urlsafe(15),
                "user_id": user["id"],
                "course_id": page.pk,
                "enrolment_id": run["id"],
                "course_revision_id": page.live_revision_id,
                "issued_at": run["completed_at"],
                "expires_on": expires_on,
                "refresher_window_days": window,
                # Certificate.save() would set this; bulk inserts do not call save().
                "refresher_from": expires_on - timedelta(days=window) if expires_on else None,
                "officer_name": f"{user['first_name']} {user['last_name']}",
                "service_number": user["service_number"],
                "force_name": c.force_name,
                "course_title": page.title,
                "signatory_name": page.signatory_name,
                "signatory_role": page.signatory_role,
            }
            run["cert"] = cert
            if position < len(runs) - 1:
                older.append(cert)
                continue
            if revoked:
                cert["revoked_at"] = min(
                    c.now, cert["issued_at"] + timedelta(days=rng.randint(1, 200))
                )
                cert["revoke_reason"] = "Issued in error (synthetic data)."
            newest.append(cert)
            for earlier in runs[:-1]:
                earlier["cert"]["superseded_by"] = cert
    everything = newest + older
    for cert in sorted(everything, key=lambda cert: cert["issued_at"]):
        year = timezone.localtime(cert["issued_at"], tz).year
        c.serial[year] = c.serial.get(year, 0) + 1
        cert["number"] = format_number(year, c.serial[year])
    c.writer.insert(Certificate, newest, ids=True)
    for cert in older:
        cert["superseded_by_id"] = cert.pop("superseded_by")["id"]
    c.writer.insert(Certificate, older, ids=True)
    states = c.counts.certificate_states
    for cert in everything:
        state = state_of(
            today=today,
            expires_on=cert["expires_on"],
            refresher_window_days=cert["refresher_window_days"],
            revoked=cert.get("revoked_at") is not None,
            superseded=cert.get("superseded_by_id") is not None,
        ).value
        states[state] = states.get(state, 0) + 1
    return everything


def _completed_assignments(c: _Context, done_pairs: list) -> list[dict]:
    """For each completed pair: the first assignment, one refresher per renewal, and, as
    `refresher_assignments_sync` would make, a refresher for a newest certificate inside its
    refresher window or expired within the year. Only the last is current."""
    rng, now, today, tz = c.rng, c.now, c.today, c.tz
    result = []
    for user, course, runs, revoked in done_pairs:
        page = course.page
        first = runs[0]
        assigned_at = first["started_at"] - timedelta(
            days=rng.randint(7, 60), seconds=rng.randint(0, 3600)
        )
        base = {"user_id": user["id"], "course_id": page.pk, "unit_path": user["unit_path"]}
        rows = [
            {
                **base,
                "kind": Assignment.Kind.ASSIGNED,
                "assigned_at": assigned_at,
                "due_on": timezone.localtime(assigned_at, tz).date() + timedelta(days=90),
                "started_at": first["started_at"],
                "completed_at": first["completed_at"],
                "current": False,
            }
        ]
        for previous, run in itertools.pairwise(runs):
            source = previous["cert"]
            rows.append(
                {
                    **base,
                    "kind": Assignment.Kind.REFRESHER,
                    "source_certificate_id": source["id"],
                    "assigned_at": _at(source["refresher_from"], rng, tz),
                    "due_on": source["expires_on"],
                    "started_at": run["started_at"],
                    "completed_at": run["completed_at"],
                    "current": False,
                }
            )
        last = runs[-1]["cert"]
        if (
            not revoked
            and last["refresher_from"] is not None
            and last["refresher_from"] <= today
            and last["expires_on"] >= today - timedelta(days=365)
        ):
            rows.append(
                {
                    **base,
                    "kind": Assignment.Kind.REFRESHER,
                    "source_certificate_id": last["id"],
                    "assigned_at": min(now, _at(last["refresher_from"], rng, tz)),
                    "due_on": last["expires_on"],
                    "current": False,
                }
            )
        rows[-1]["current"] = True
        result.extend(rows)
    return result


def _attempts(c: _Context, starters: list[int]) -> None:
    """Finished attempts on a live scenario's live revision for some of the officers who
    started a course: one, or a failed one and another after it."""
    from scenarios.models import Attempt, AttemptChoice

    rng, now = c.rng, c.now
    attempts: list[dict] = []
    taken_by: list[list[dict]] = []
    for user_id in starters:
        if rng.random() >= ATTEMPTERS:
            continue
        scenario = c.scenarios[rng.randrange(len(c.scenarios))]
        begun = now - timedelta(days=rng.randint(1, 365), seconds=rng.randint(0, 86000))
        for _ in range(2):
            played = _play(rng, scenario.engine)
            if played is None:
                break
            state, result = played
            moment = begun
            taken = []
            for position, choice in enumerate(state.path):
                moment += timedelta(seconds=rng.randint(10, 120))
                taken.append(
                    {
                        "position": position,
                        "step": choice.step,
                        "choice_index": choice.choice_index,
                        "points": choice.points,
                        "critical": choice.critical,
                        "chosen_at": moment,
                    }
                )
            attempts.append(
                {
                    "user_id": user_id,
                    "scenario_id": scenario.pk,
                    "revision_id": scenario.revision_id,
                    "lesson_id": scenario.lesson_id,
                    "started_at": begun,
                    "finished_at": moment,
                    "current_step": state.current,
                    "score": state.score,
                    "critical": state.critical,
                    "outcome": result.outcome,
                    "percent": result.percent,
                    "passed": result.passed,
                }
            )
            taken_by.append(taken)
            begun = moment + timedelta(minutes=rng.randint(2, 60 * 24 * 3))
            if result.passed or rng.random() < 0.5 or begun >= now:
                break
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
