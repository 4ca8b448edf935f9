"""The synthetic-data generator: consistent trees, proportions, certificates, refusals."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certificates.models import Certificate, NumberSeries
from certificates.rules import State
from courses.models import Assignment, CoursePage, Enrolment, LessonCompletion, LessonPage
from courses.synthetic import (
    DEFAULT_FORCE,
    certificate_chain,
    officer_unit_index,
    step_path,
    unit_plan,
)
from officers.models import OfficerProfile, Role, Unit, User
from officers.roles import GROUP_NAMES

# ------------------------------------------------------------------ plain functions, no DB


def test_step_path_is_treebeards_encoding() -> None:
    assert step_path("0001", 1) == "00010001"
    assert step_path("0001", 36) == "00010010"
    assert step_path("00010002", 37) == "000100020011"
    assert step_path("0001", 36**2) == "00010100"


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


def test_certificate_chains_have_the_drawn_states() -> None:
    from certificates.rules import state_of

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
