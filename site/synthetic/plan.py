"""The synthetic force as a plan: plain data, drawn with `random.Random(seed)`, no database.

What `pathways.synthetic` writes, decided here without it: the unit tree's shape and names,
the courses' names, each officer's name, rank and unit, who is assigned which course, who
completed it (and when, with which certificates, renewed, expiring, expired or revoked), who is
part way through, and the scenario attempts. The certificate and training rules are the apps'
own (`certificates.rules`, `training.rules`); the writer (writer.py) adds what only the
database knows: ids, tree paths, certificate numbers and codes, the courses' pages.

Objects refer to each other by position: an officer's `unit` and a division lead's `leads` are
indexes into `Plan.units`; a certificate's `run` and `superseded_by`, and an assignment's
`refresher_of`, are positions in the same `PlannedProgress`.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from datetime import time as dtime
from enum import Enum

from certificates.rules import (
    HeldCertificate,
    add_months,
    expiry_for,
    refresher_from_for,
    superseded_by_issue,
)
from scenarios import engine
from training.rules import assignment_due_on, refresher_due, refresher_due_on

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
FIRST_DUE_DAYS = 90  # a completed course's first assignment was due this long after it was made

ASSIGNED = 0.90
COMPLETED = 0.55
IN_PROGRESS = 0.20
EXPIRING = 0.05
EXPIRED = 0.12
RENEWED = 0.04
REVOKED = 0.005
ATTEMPTERS = 0.10

CHUNK = 2000  # officers planned (and written) at a time

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
RANK_NAMES = [rank for rank, _ in RANKS]
RANK_WEIGHTS = [weight for _, weight in RANKS]
LEAD_RANK = "Inspector"
RECRUIT_RANK = "Probationary Constable"
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
SIGNATORY_NAME = "Chief Superintendent A. Example"
SIGNATORY_ROLE = "Head of Training"
REVOKE_REASON = "Issued in error (synthetic data)."


# ------------------------------------------------------------------------------ the units


class UnitKind(Enum):
    DIVISION = "division"
    TEAM = "team"
    INTAKE = "intake"


@dataclass(frozen=True)
class PlannedUnit:
    """A unit under the force: its parent (an index into the unit list, None for the force),
    its place among its parent's children (from 1), name, kind and number of children."""

    parent: int | None
    step: int
    name: str
    kind: UnitKind
    children: int


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


def _division_name(index: int) -> str:
    if index < 26:
        return f"{chr(ord('A') + index)} Division"
    return f"Division {index + 1}"


def unit_rows(plan: UnitPlan, year: int) -> tuple[list[PlannedUnit], list[int], list[int]]:
    """Every unit under the force, parents before children: each division followed by its
    teams, then the two intakes. Also the index of each team's unit in team order followed by
    the two intakes' (an officer's place, see `officer_unit_index`), and of each division's."""
    rows: list[PlannedUnit] = []
    teams_of: list[list[int]] = [[] for _ in range(plan.divisions)]
    for team, division in enumerate(plan.team_division):
        teams_of[division].append(team)
    places: list[int] = [0] * plan.teams
    divisions: list[int] = []
    for d in range(plan.divisions):
        name = _division_name(d)
        divisions.append(len(rows))
        rows.append(PlannedUnit(None, d + 1, name, UnitKind.DIVISION, len(teams_of[d])))
        short = name.removesuffix(" Division")
        parent = divisions[-1]
        for local, team in enumerate(teams_of[d]):
            kind = TEAM_KINDS[local % len(TEAM_KINDS)]
            places[team] = len(rows)
            rows.append(
                PlannedUnit(
                    parent,
                    local + 1,
                    f"{short} {kind} {local // len(TEAM_KINDS) + 1}",
                    UnitKind.TEAM,
                    0,
                )
            )
    for i in (1, 2):
        places.append(len(rows))
        rows.append(
            PlannedUnit(None, plan.divisions + i, f"Recruit intake {year}-{i}", UnitKind.INTAKE, 0)
        )
    return rows, places, divisions


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
    """The force's initials, which start its officers' service numbers."""
    letters = "".join(word[0] for word in re.findall(r"[A-Za-z0-9]+", name)).upper()
    return (letters or "SYN")[:6]


def email_for(number: int) -> str:
    return f"synthetic.{number}@{EMAIL_DOMAIN}"


# ---------------------------------------------------------------------------- the courses


@dataclass(frozen=True)
class LessonSpec:
    title: str
    slug: str
    text: str


@dataclass(frozen=True)
class ModuleSpec:
    title: str
    slug: str
    lessons: tuple[LessonSpec, ...]


@dataclass(frozen=True)
class CourseSpec:
    """A synthetic course to publish (or to reuse, found by slug)."""

    slug: str
    title: str
    summary: str
    audience: str
    duration_minutes: int
    validity_months: int | None
    refresher_window_days: int
    signatory_name: str
    signatory_role: str
    modules: tuple[ModuleSpec, ...]


def course_specs(count: int) -> list[CourseSpec]:
    """`count` courses of 2 modules x 3 lessons, valid for 12 or 36 months in turn."""
    result = []
    for i in range(count):
        topic = TOPICS[i % len(TOPICS)]
        modules = tuple(
            ModuleSpec(
                f"{topic}: module {m}",
                f"module-{m}",
                tuple(
                    LessonSpec(
                        f"{topic}: lesson {m}.{n}",
                        f"lesson-{m}-{n}",
                        f"Teaching text: {topic}: lesson {m}.{n}.",
                    )
                    for n in range(1, LESSONS + 1)
                ),
            )
            for m in range(1, MODULES + 1)
        )
        result.append(
            CourseSpec(
                slug=COURSE_SLUG.format(i + 1),
                title=f"{topic} (synthetic {i + 1})",
                summary=f"Synthetic course {i + 1} for benchmarks: {topic.lower()}.",
                audience="Frontline officers",
                duration_minutes=60,
                validity_months=36 if i % 2 else 12,
                refresher_window_days=REFRESHER_WINDOW_DAYS,
                signatory_name=SIGNATORY_NAME,
                signatory_role=SIGNATORY_ROLE,
                modules=modules,
            )
        )
    return result


@dataclass(frozen=True)
class CourseFacts:
    """What the plan needs of a course as it is (a reused course may have been changed)."""

    validity_months: int | None
    refresher_window_days: int
    lessons: int


# -------------------------------------------------------------------- certificate chains


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


# ---------------------------------------------------------------------- officers' progress


@dataclass(slots=True)
class PlannedRun:
    """An enrolment: a pass through the course, complete or open (with the completion times
    of its first lessons)."""

    started_at: datetime
    completed_at: datetime | None = None
    passes_count_after: datetime | None = None
    lessons: Sequence[datetime] = ()


@dataclass(slots=True)
class PlannedCertificate:
    run: int  # position of the completed run in the same PlannedProgress
    issued_at: datetime
    expires_on: date | None
    refresher_from: date | None
    refresher_window_days: int
    superseded_by: int | None = None  # position of the newer certificate
    revoked_at: datetime | None = None


@dataclass(slots=True)
class PlannedAssignment:
    """Assigned, or a refresher of the certificate at position `refresher_of`."""

    refresher_of: int | None
    assigned_at: datetime
    due_on: date
    started_at: datetime | None = None
    completed_at: datetime | None = None
    current: bool = False


@dataclass(slots=True)
class PlannedProgress:
    """One officer and one course: its assignments (the last is current), runs and
    certificates (one for each completed run, in the same order), oldest first."""

    course: int  # index into Plan.courses
    runs: list[PlannedRun]
    certificates: list[PlannedCertificate]
    assignments: list[PlannedAssignment]


@dataclass(slots=True)
class PlannedAttempt:
    """A finished play-through of a live scenario, with the moment of each choice."""

    scenario: int  # index into Plan.scenarios
    started_at: datetime
    finished_at: datetime
    state: engine.AttemptState
    result: engine.Result
    chosen_at: list[datetime]


@dataclass(slots=True)
class PlannedOfficer:
    index: int  # from 0 within the force; the writer numbers email addresses from it
    first_name: str
    last_name: str
    joined_at: datetime
    unit: int = 0  # index into Plan.units
    service_number: str = ""
    rank: str = ""
    leads: int | None = None  # index into Plan.units of the division a training lead leads
    progress: list[PlannedProgress] = field(default_factory=list)
    attempts: Sequence[PlannedAttempt] = ()


class Plan:
    """A force of `officers` officers doing `courses`, planned `CHUNK` officers at a time by
    `chunks()` (the same seed and chunk size give the same plan)."""

    def __init__(
        self,
        *,
        officers: int,
        force_name: str,
        courses: Sequence[CourseFacts],
        now: datetime,
        tz: tzinfo,
        refresher_lookback_days: int,
        scenarios: Sequence[engine.Scenario] = (),
        seed: int = 1,
    ) -> None:
        if officers < 1:
            raise ValueError("officers must be at least 1")
        self.officers = officers
        self.courses = list(courses)
        self.scenarios = list(scenarios)
        self.now = now
        self.tz = tz
        self.today = now.astimezone(tz).date()
        self.lookback_days = refresher_lookback_days
        self.prefix = force_prefix(force_name)
        self.shape = unit_plan(officers)
        self.units, self.places, division_units = unit_rows(self.shape, self.today.year)
        self.leads = {
            index: division_units[division]
            for index, division in division_lead_indexes(self.shape).items()
        }
        self.rng = random.Random(seed)

    @property
    def force_children(self) -> int:
        return sum(unit.parent is None for unit in self.units)

    def chunks(self, size: int = CHUNK) -> Iterator[list[PlannedOfficer]]:
        """The officers, `size` at a time, in order. Each chunk is drawn as it is asked for."""
        for lo in range(0, self.officers, size):
            yield self._chunk(lo, min(self.officers, lo + size))

    def _at(self, day: date) -> datetime:
        """A working-hours moment on this local day."""
        moment = datetime.combine(day, dtime(8, 0), tzinfo=self.tz)
        return moment + timedelta(seconds=self.rng.randint(0, 10 * 3600))

    def _chunk(self, lo: int, hi: int) -> list[PlannedOfficer]:
        rng, now = self.rng, self.now
        officers = [
            PlannedOfficer(
                index=i,
                first_name=GIVEN[rng.randrange(len(GIVEN))],
                last_name=FAMILY[rng.randrange(len(FAMILY))],
                joined_at=now - timedelta(days=rng.randint(30, 3000)),
            )
            for i in range(lo, hi)
        ]
        for officer in officers:
            place = officer_unit_index(officer.index, self.shape)
            officer.unit = self.places[place]
            officer.service_number = f"{self.prefix}{officer.index + 1:06d}"
            if officer.index in self.leads:
                officer.rank, officer.leads = LEAD_RANK, self.leads[officer.index]
            elif place >= self.shape.teams:
                officer.rank = RECRUIT_RANK
            else:
                officer.rank = rng.choices(RANK_NAMES, RANK_WEIGHTS)[0]
        completed, open_runs, starters = self._progress(officers)
        self._lessons(open_runs)
        self._certificates(completed)
        self._completed_assignments(completed)
        if self.scenarios:
            self._attempts(starters)
        return officers

    def _progress(
        self, officers: list[PlannedOfficer]
    ) -> tuple[
        list[tuple[PlannedProgress, bool]],
        list[tuple[PlannedRun, int, CourseFacts]],
        list[PlannedOfficer],
    ]:
        """Who is assigned which course, and who completed it (with which certificates), is
        part way through or has not started. Returns the completed pairs (and whether the last
        certificate is to be revoked), the open runs (with how many lessons are done) and the
        officers who started a course."""
        rng, now, today = self.rng, self.now, self.today
        completed: list[tuple[PlannedProgress, bool]] = []
        open_runs: list[tuple[PlannedRun, int, CourseFacts]] = []
        starters: list[PlannedOfficer] = []
        for officer in officers:
            started_any = False
            for number, course in enumerate(self.courses):
                if rng.random() >= ASSIGNED:
                    continue
                draw = rng.random()
                if draw < COMPLETED:
                    chain, revoked = certificate_chain(
                        rng,
                        today=today,
                        validity_months=course.validity_months,
                        window_days=course.refresher_window_days,
                    )
                    runs: list[PlannedRun] = []
                    certificates = []
                    previous = None
                    for cert in chain:
                        done_at = self._at(cert.issued_on)
                        started_at = done_at - timedelta(
                            days=rng.randint(0, 20), seconds=rng.randint(600, 20000)
                        )
                        certificates.append(
                            PlannedCertificate(
                                run=len(runs),
                                issued_at=done_at,
                                expires_on=cert.expires_on,
                                refresher_from=refresher_from_for(
                                    cert.expires_on, course.refresher_window_days
                                ),
                                refresher_window_days=course.refresher_window_days,
                            )
                        )
                        runs.append(PlannedRun(started_at, done_at, previous))
                        previous = done_at
                    progress = PlannedProgress(number, runs, certificates, [])
                    officer.progress.append(progress)
                    completed.append((progress, revoked))
                    started_any = True
                    continue
                due_on = today + timedelta(days=rng.randint(-90, 90))
                assigned_at = min(now, self._at(due_on - timedelta(days=rng.randint(30, 120))))
                assignment = PlannedAssignment(None, assigned_at, due_on, current=True)
                progress = PlannedProgress(number, [], [], [assignment])
                if draw < COMPLETED + IN_PROGRESS:
                    span = max(3601, int((now - assigned_at).total_seconds()))
                    begun = max(assigned_at, now - timedelta(seconds=rng.randint(3600, span)))
                    assignment.started_at = begun
                    run = PlannedRun(begun)
                    progress.runs.append(run)
                    open_runs.append((run, rng.randint(1, 4), course))
                    started_any = True
                officer.progress.append(progress)
            if started_any:
                starters.append(officer)
        return completed, open_runs, starters

    def _lessons(self, open_runs: list[tuple[PlannedRun, int, CourseFacts]]) -> None:
        """When an open run's first lessons were completed (completed runs record none: the
        completion is what counts, and it keeps the row count down)."""
        rng, now = self.rng, self.now
        for run, done, course in open_runs:
            moment, lessons = run.started_at, []
            for _ in range(min(done, course.lessons)):
                moment = min(now, moment + timedelta(minutes=rng.randint(5, 60 * 24 * 7)))
                lessons.append(moment)
            run.lessons = lessons

    def _certificates(self, completed: list[tuple[PlannedProgress, bool]]) -> None:
        """Supersession as each certificate is issued, by the certificates' rule; then the
        newest certificate revoked where drawn."""
        rng, now = self.rng, self.now
        for progress, revoked in completed:
            certificates = progress.certificates
            for position, cert in enumerate(certificates):
                held = [
                    HeldCertificate(
                        earlier.issued_at,
                        earlier.revoked_at is not None,
                        earlier.superseded_by is not None,
                    )
                    for earlier in certificates[:position]
                ]
                for earlier in superseded_by_issue(cert.issued_at, held):
                    certificates[earlier].superseded_by = position
            if revoked:
                last = certificates[-1]
                last.revoked_at = min(now, last.issued_at + timedelta(days=rng.randint(1, 200)))

    def _completed_assignments(self, completed: list[tuple[PlannedProgress, bool]]) -> None:
        """For each completed pair: the first assignment, one refresher per renewal, and, as
        `training.assignments.refresher_assignments_sync` would make, a refresher for a newest
        certificate that calls for one (`training.rules.refresher_due`). Only the last is
        current."""
        rng, now, today, tz = self.rng, self.now, self.today, self.tz
        for progress, _revoked in completed:
            runs, certificates = progress.runs, progress.certificates
            first = runs[0]
            assigned_at = first.started_at - timedelta(
                days=rng.randint(7, 60), seconds=rng.randint(0, 3600)
            )
            rows = [
                PlannedAssignment(
                    None,
                    assigned_at,
                    assignment_due_on(
                        due_date=None,
                        due_days=FIRST_DUE_DAYS,
                        assigned_on=assigned_at.astimezone(tz).date(),
                    ),
                    started_at=first.started_at,
                    completed_at=first.completed_at,
                )
            ]
            for position in range(1, len(certificates)):
                source, run = certificates[position - 1], runs[certificates[position].run]
                rows.append(
                    PlannedAssignment(
                        position - 1,
                        self._at(source.refresher_from),
                        refresher_due_on(source.expires_on),
                        started_at=run.started_at,
                        completed_at=run.completed_at,
                    )
                )
            last = certificates[-1]
            if refresher_due(
                on=today,
                expires_on=last.expires_on,
                refresher_window_days=last.refresher_window_days,
                revoked=last.revoked_at is not None,
                superseded=last.superseded_by is not None,
                lookback_days=self.lookback_days,
            ):
                rows.append(
                    PlannedAssignment(
                        len(certificates) - 1,
                        min(now, self._at(last.refresher_from)),
                        refresher_due_on(last.expires_on),
                    )
                )
            rows[-1].current = True
            progress.assignments = rows

    def _attempts(self, starters: list[PlannedOfficer]) -> None:
        """Finished attempts on a live scenario for some of the officers who started a course:
        one, or a failed one and another after it."""
        rng, now = self.rng, self.now
        for officer in starters:
            if rng.random() >= ATTEMPTERS:
                continue
            number = rng.randrange(len(self.scenarios))
            begun = now - timedelta(days=rng.randint(1, 365), seconds=rng.randint(0, 86000))
            officer.attempts = attempts = []
            for _ in range(2):
                played = self._play(self.scenarios[number])
                if played is None:
                    break
                state, result = played
                moment = begun
                chosen_at = []
                for _choice in state.path:
                    moment += timedelta(seconds=rng.randint(10, 120))
                    chosen_at.append(moment)
                attempts.append(PlannedAttempt(number, begun, moment, state, result, chosen_at))
                begun = moment + timedelta(minutes=rng.randint(2, 60 * 24 * 3))
                if result.passed or rng.random() < 0.5 or begun >= now:
                    break

    def _play(self, played: engine.Scenario) -> tuple[engine.AttemptState, engine.Result] | None:
        """A random walk through a scenario, mostly taking the best-scoring choice."""
        rng = self.rng
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
