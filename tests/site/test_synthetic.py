"""The synthetic-data generator: the plan (no database) and what the writer makes of it:
consistent trees, proportions, certificates, refusals."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from certificates.models import REFRESHER_LOOKBACK_DAYS, Certificate, NumberSeries
from certificates.rules import (
    HeldCertificate,
    State,
    refresher_from_for,
    state_of,
    superseded_by_issue,
)
from courses.models import CoursePage, Enrolment, LessonCompletion, LessonPage
from officers.models import OfficerProfile, Role, Unit, User
from officers.roles import GROUP_NAMES
from pathways.synthetic import (
    DEFAULT_FORCE,
    CourseFacts,
    Plan,
    PlannedOfficer,
    UnitKind,
    certificate_chain,
    child_path,
    course_specs,
    officer_unit_index,
    unit_plan,
    unit_rows,
)
from scenarios import engine
from scenarios.demo import DEMO_DIR
from training.assignments import refresher_assignments_sync
from training.models import Assignment
from training.rules import refresher_due

# ------------------------------------------------------------------ the plan, no database

TZ = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
TODAY = date(2026, 3, 1)
COURSES = [
    CourseFacts(validity_months=12, refresher_window_days=60, lessons=6),
    CourseFacts(validity_months=36, refresher_window_days=30, lessons=3),
    CourseFacts(validity_months=None, refresher_window_days=60, lessons=6),
]


def _plan(officers: int = 1200, seed: int = 5, **options: object) -> Plan:
    return Plan(
        officers=officers,
        force_name="Test Synthetic Police",
        courses=options.pop("courses", COURSES),
        now=NOW,
        tz=TZ,
        refresher_lookback_days=365,
        seed=seed,
        **options,
    )


def _officers(plan: Plan, chunk: int = 500) -> list[PlannedOfficer]:
    return [officer for officers in plan.chunks(chunk) for officer in officers]


def test_child_path_is_treebeards_encoding() -> None:
    assert child_path("0001", 1) == "00010001"
    assert child_path("0001", 36) == "00010010"
    assert child_path("00010002", 37) == "000100020011"
    assert child_path("0001", 36**2) == "00010100"


def test_unit_plan_proportions() -> None:
    plan = unit_plan(16_000)
    assert plan.intake_size == 250
    assert plan.regular == 16_000 - 500
    assert 24 <= plan.regular / plan.teams <= 25
    assert 9 <= plan.teams / plan.divisions <= 10
    sizes = Counter(officer_unit_index(i, plan) for i in range(16_000))
    assert max(sizes[t] for t in range(plan.teams)) - min(sizes[t] for t in range(plan.teams)) <= 1
    assert sizes[plan.teams] == sizes[plan.teams + 1] == 250
    tiny = unit_plan(1)
    assert (tiny.teams, tiny.divisions, tiny.intake_size) == (1, 1, 0)
    assert officer_unit_index(0, tiny) == 0


def test_unit_rows_make_a_tree() -> None:
    shape = unit_plan(16_000)
    rows, places, divisions = unit_rows(shape, 2026)
    assert len(rows) == shape.divisions + shape.teams + 2
    assert len(places) == shape.teams + 2 and len(set(places)) == len(places)
    assert [rows[d].kind for d in divisions] == [UnitKind.DIVISION] * shape.divisions
    children: dict[int | None, list[int]] = {}
    for index, row in enumerate(rows):
        assert row.parent is None or row.parent < index  # parents come first
        children.setdefault(row.parent, []).append(row.step)
    for parent, steps in children.items():
        assert steps == list(range(1, len(steps) + 1))  # places among siblings, from 1
        if parent is not None:
            assert rows[parent].children == len(steps)
            assert rows[parent].kind == UnitKind.DIVISION
    assert len(children[None]) == shape.divisions + 2
    assert [rows[p].kind for p in places[-2:]] == [UnitKind.INTAKE, UnitKind.INTAKE]
    assert rows[places[-1]].name == "Recruit intake 2026-2"
    assert all(rows[p].kind == UnitKind.TEAM for p in places[:-2])
    names = Counter((row.parent, row.name) for row in rows)
    assert max(names.values()) == 1


def test_course_specs() -> None:
    specs = course_specs(12)
    assert len({spec.slug for spec in specs}) == 12
    assert [spec.validity_months for spec in specs[:3]] == [12, 36, 12]
    assert all(len(spec.modules) == 2 for spec in specs)
    assert all(len(module.lessons) == 3 for spec in specs for module in spec.modules)


def test_certificate_chains_have_the_drawn_states() -> None:
    rng = random.Random(3)
    today = date(2026, 3, 1)
    states: Counter[str] = Counter()
    for _ in range(4000):
        chain, revoked = certificate_chain(rng, today=today, validity_months=12, window_days=60)
        assert all(c.issued_on < today for c in chain)
        for older, newer in zip(chain, chain[1:], strict=False):
            # renewed inside the older one's refresher window
            assert older.expires_on - timedelta(days=60) <= newer.issued_on <= older.expires_on
        last = chain[-1]
        states[
            state_of(
                today=today,
                expires_on=last.expires_on,
                refresher_window_days=60,
                revoked=revoked,
                superseded=False,
            )
        ] += 1
    assert 0.03 < states[State.EXPIRING] / 4000 < 0.08
    assert 0.08 < states[State.EXPIRED] / 4000 < 0.16
    assert states[State.REVOKED] / 4000 < 0.02
    assert states[State.VALID] / 4000 > 0.7


def test_the_plan_is_the_same_for_the_same_seed() -> None:
    assert _officers(_plan(300, seed=9)) == _officers(_plan(300, seed=9))
    assert _officers(_plan(300, seed=9)) != _officers(_plan(300, seed=10))


def test_the_plan_places_officers_and_leads() -> None:
    plan = _plan(1200)
    officers = _officers(plan)
    assert [o.index for o in officers] == list(range(1200))
    assert len({o.service_number for o in officers}) == 1200
    assert all(o.service_number.startswith("TSP") for o in officers)
    leads = [o for o in officers if o.leads is not None]
    divisions = [i for i, unit in enumerate(plan.units) if unit.kind == UnitKind.DIVISION]
    assert sorted(o.leads for o in leads) == divisions  # one lead for each division
    for lead in leads:
        assert plan.units[lead.unit].parent == lead.leads and lead.rank == "Inspector"
    recruits = [o for o in officers if plan.units[o.unit].kind == UnitKind.INTAKE]
    assert len(recruits) == 2 * (1200 // 50)
    assert {o.rank for o in recruits} == {"Probationary Constable"}
    assert plan.force_children == plan.shape.divisions + 2


def test_the_plan_keeps_the_apps_rules() -> None:
    plan = _plan(1200)
    officers = _officers(plan)
    pairs = [p for o in officers for p in o.progress]
    assert 0.85 < len(pairs) / (1200 * len(COURSES)) < 0.95
    completed = [p for p in pairs if p.certificates]
    in_progress = [p for p in pairs if p.runs and p.runs[-1].completed_at is None]
    assert 0.5 < len(completed) / len(pairs) < 0.6
    assert 0.15 < len(in_progress) / len(pairs) < 0.25

    renewed = refreshed = 0
    for progress in pairs:
        course = COURSES[progress.course]
        assignments, runs, certificates = progress.assignments, progress.runs, progress.certificates
        # One current assignment, the last; every assignment made before now.
        assert [a.current for a in assignments] == [False] * (len(assignments) - 1) + [True]
        assert all(a.assigned_at <= NOW for a in assignments)
        # Open runs have their first lessons done, in order; completed runs none.
        for run in runs:
            if run.completed_at is None:
                assert 1 <= len(run.lessons) <= min(4, course.lessons)
                assert run.lessons == sorted(run.lessons) and run.lessons[0] >= run.started_at
                assert assignments[-1].started_at == run.started_at
            else:
                assert not run.lessons and run.started_at < run.completed_at
        if not certificates:
            assert len(assignments) == 1 and assignments[0].refresher_of is None
            continue
        # A certificate for each completed run; dates by the certificate rules.
        assert [c.run for c in certificates] == list(range(len(runs)))
        for cert, run in zip(certificates, runs, strict=True):
            assert cert.issued_at == run.completed_at
            assert cert.refresher_from == refresher_from_for(
                cert.expires_on, course.refresher_window_days
            )
        for earlier, later in zip(runs, runs[1:], strict=False):
            assert later.passes_count_after == earlier.completed_at
        # Supersession as issuing would do it; only the newest may be revoked.
        for position, cert in enumerate(certificates):
            held = [
                HeldCertificate(
                    c.issued_at, False, c.superseded_by is not None and c.superseded_by < position
                )
                for c in certificates[:position]
            ]
            replaced = superseded_by_issue(cert.issued_at, held)
            assert replaced == [
                i for i, c in enumerate(certificates[:position]) if c.superseded_by == position
            ]
        assert all(c.revoked_at is None for c in certificates[:-1])
        renewed += len(certificates) > 1
        # The first assignment, a refresher per renewal, and one for a newest certificate
        # that calls for it, due on its expiry.
        assert assignments[0].refresher_of is None
        refreshers = [a for a in assignments if a.refresher_of is not None]
        for a in refreshers:
            assert a.due_on == certificates[a.refresher_of].expires_on
        last = certificates[-1]
        due = refresher_due(
            on=TODAY,
            expires_on=last.expires_on,
            refresher_window_days=last.refresher_window_days,
            revoked=last.revoked_at is not None,
            superseded=last.superseded_by is not None,
            lookback_days=365,
        )
        assert (assignments[-1].refresher_of == len(certificates) - 1) == due
        assert len(refreshers) == len(certificates) - 1 + due
        if due:
            refreshed += 1
            assert assignments[-1].completed_at is None
        else:
            assert assignments[-1].completed_at == last.issued_at
    assert 0.02 < renewed / len(completed) < 0.06
    assert 0.1 < refreshed / len(completed) < 0.25
    assert not any(o.attempts for o in officers)  # no live scenario


def test_the_plan_plays_scenarios_through_the_engine() -> None:
    played = engine.parse_json((DEMO_DIR / "person-in-distress.json").read_bytes())
    plan = _plan(1000, scenarios=[played])
    officers = _officers(plan)
    starters = [o for o in officers if any(p.runs for p in o.progress)]
    attempted = [o for o in officers if o.attempts]
    assert set(map(id, attempted)) <= set(map(id, starters))
    assert 0.05 < len(attempted) / len(starters) < 0.15
    for officer in attempted:
        assert 1 <= len(officer.attempts) <= 2
        if len(officer.attempts) == 2:
            assert not officer.attempts[0].result.passed
        for attempt in officer.attempts:
            assert attempt.state.finished and attempt.state.path
            replayed = engine.replay(played, [(c.step, c.choice_index) for c in attempt.state.path])
            assert replayed == attempt.state
            assert engine.result(played, replayed) == attempt.result
            assert attempt.chosen_at == sorted(attempt.chosen_at)
            assert attempt.started_at < attempt.chosen_at[0]
            assert attempt.finished_at == attempt.chosen_at[-1]


def test_the_plan_refuses_an_empty_force() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        _plan(0)


# --------------------------------------------------------------------------- the command


def _generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_synthetic", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_generates_a_consistent_force(settings) -> None:  # noqa: ANN001
    settings.DEBUG = True
    output = _generate("--officers", "60", "--courses", "2")
    assert "officers=60" in output and "seconds=" in output

    force = Unit.objects.get(depth=1, name=DEFAULT_FORCE)
    # The hand-built tree is one treebeard would have built.
    assert Unit.find_problems() == ([], [], [], [], [])
    kinds = Counter(force.get_descendants().values_list("kind", flat=True))
    assert kinds[Unit.Kind.INTAKE] == 2 and kinds[Unit.Kind.DIVISION] == 1
    assert kinds[Unit.Kind.TEAM] == 3  # 58 officers in teams of about 25
    assert force.numchild == force.get_children().count() == 3

    profiles = list(OfficerProfile.objects.filter(force=force).select_related("unit", "user"))
    assert len(profiles) == 60
    subtree = set(force.subtree().values_list("pk", flat=True))
    assert all(p.unit_id in subtree and p.unit_id != force.pk for p in profiles)
    assert len({p.service_number for p in profiles}) == 60
    assert all(p.user.email.endswith("@synthetic.police.uk") for p in profiles)
    assert not any(p.user.has_usable_password() for p in profiles)
    roles = Counter(
        User.groups.through.objects.filter(user__officer__force=force).values_list(
            "group__name", flat=True
        )
    )
    assert roles == {GROUP_NAMES[Role.LEARNER]: 59, GROUP_NAMES[Role.TRAINING_LEAD]: 1}
    lead = OfficerProfile.objects.get(force=force, led_units__isnull=False)
    assert lead.led_units.get().kind == Unit.Kind.DIVISION

    # Assignments: one current per assigned officer and course, on the officer's unit path.
    path_of = {p.user_id: p.unit.path for p in profiles}
    number_of = {p.user_id: p.service_number for p in profiles}
    assignments = list(Assignment.objects.filter(user__officer__force=force))
    assert all(a.unit_path == path_of[a.user_id] for a in assignments)
    current = Counter((a.user_id, a.course_id) for a in assignments if a.current)
    assert set(current.values()) == {1}
    assert 0.8 * 120 <= len(current) <= 120

    # Progress in roughly the right proportions.
    certified = set(Certificate.objects.values_list("user_id", "course_id"))
    in_progress = set(
        Enrolment.objects.filter(completed_at__isnull=True).values_list("user_id", "course_id")
    )
    assert 0.35 < len(certified) / len(current) < 0.75
    assert 0.08 < len(in_progress) / len(current) < 0.35
    assert not certified & in_progress
    for completion in LessonCompletion.objects.select_related("enrolment", "lesson"):
        assert completion.enrolment.completed_at is None
        assert completion.lesson.get_ancestors().filter(pk=completion.enrolment.course_id)
    started = {(a.user_id, a.course_id) for a in assignments if a.current and a.started_at}
    assert in_progress <= started

    # The refresher assignments are exactly those refresher_assignments_sync would make, by
    # the same rule as the queryset's.
    today = timezone.localdate()
    due = set(Certificate.objects.refresher_due(on=today).values_list("pk", flat=True))
    assert due == {
        c.pk
        for c in Certificate.objects.all()
        if refresher_due(
            on=today,
            expires_on=c.expires_on,
            refresher_window_days=c.refresher_window_days,
            revoked=c.revoked_at is not None,
            superseded=c.superseded_by_id is not None,
            lookback_days=REFRESHER_LOOKBACK_DAYS,
        )
    }
    assert due == {
        a.source_certificate_id for a in assignments if a.current and a.source_certificate_id
    }
    assert refresher_assignments_sync(today) == 0
    for a in assignments:
        if a.kind == Assignment.Kind.REFRESHER:
            assert a.due_on == a.source_certificate.expires_on

    # Certificates: distinct numbers and codes, the refresher date set, snapshots filled,
    # supersession within one officer's course, and the number series caught up.
    certificates = list(Certificate.objects.select_related("enrolment", "superseded_by"))
    assert len({c.number for c in certificates}) == len(certificates)
    assert len({c.code for c in certificates}) == len(certificates)
    for c in certificates:
        assert c.refresher_from == c.expires_on - timedelta(days=c.refresher_window_days)
        assert c.enrolment.completed_at == c.issued_at
        assert c.officer_name and c.course_title and c.force_name == DEFAULT_FORCE
        assert c.service_number == number_of[c.user_id]
        if c.superseded_by_id:
            assert (c.superseded_by.user_id, c.superseded_by.course_id) == (c.user_id, c.course_id)
            assert c.superseded_by.issued_at > c.issued_at
        elif c.revoked_at is None:  # current: issuing it left no earlier one current
            assert not Certificate.objects.superseded_by_issue_of(c).exists()
    # Numbered in order of issue within each year.
    ordered = sorted(certificates, key=lambda c: c.issued_at)
    for year in {int(c.number.split("-")[1]) for c in certificates}:
        serials = [
            int(c.number.split("-")[2]) for c in ordered if c.number.split("-")[1] == str(year)
        ]
        assert serials == sorted(serials)
    by_year = Counter(int(c.number.split("-")[1]) for c in certificates)
    for year, count in by_year.items():
        assert NumberSeries.objects.get(year=year).last == count
    serials = {int(c.number.split("-")[2]) for c in certificates}
    assert max(serials) == max(by_year.values())
    states = Counter(c.state() for c in certificates)
    assert states[State.VALID] > states[State.EXPIRED] > 0
    # The generated courses are real published pages with 2 modules x 3 lessons.
    courses = CoursePage.objects.filter(slug__startswith="synthetic-")
    assert courses.count() == 2
    for course in courses:
        assert course.live and course.live_revision_id
        assert LessonPage.objects.descendant_of(course).live().count() == 6

    # The same force name again: refused, nothing added.
    before = (User.objects.count(), Certificate.objects.count(), Unit.objects.count())
    with pytest.raises(CommandError, match="already exists; use another --force-name"):
        _generate("--officers", "10", "--courses", "2")
    assert (User.objects.count(), Certificate.objects.count(), Unit.objects.count()) == before

    # Another force reuses the courses and carries on the certificate numbers.
    _generate("--officers", "12", "--courses", "2", "--force-name", "Second Synthetic Police")
    assert CoursePage.objects.filter(slug__startswith="synthetic-").count() == 2
    assert Unit.find_problems() == ([], [], [], [], [])
    numbers = list(Certificate.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    assert User.objects.filter(email__endswith="@synthetic.police.uk").count() == 72


@pytest.mark.django_db
def test_refuses_without_debug_unless_told(settings) -> None:  # noqa: ANN001
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        _generate("--officers", "5", "--courses", "1")
    assert not Unit.objects.filter(name=DEFAULT_FORCE).exists()
    _generate("--officers", "5", "--courses", "1", "--yes")
    assert OfficerProfile.objects.filter(force__name=DEFAULT_FORCE).count() == 5


@pytest.mark.django_db
def test_attempts_are_played_on_the_live_revision(settings) -> None:  # noqa: ANN001
    from scenarios.demo import demo_scenario
    from scenarios.models import Attempt

    settings.DEBUG = True
    scenario = demo_scenario("person-in-distress.json")
    scenario.refresh_from_db()
    _generate("--officers", "80", "--courses", "1")
    attempts = list(Attempt.objects.prefetch_related("choices"))
    assert attempts
    for attempt in attempts:
        assert attempt.scenario_id == scenario.pk
        assert attempt.revision_id == scenario.live_revision_id
        assert attempt.finished_at and attempt.passed is not None and attempt.outcome
        choices = list(attempt.choices.all())
        assert choices and [c.position for c in choices] == list(range(len(choices)))
        assert sum(c.points for c in choices) == attempt.score
