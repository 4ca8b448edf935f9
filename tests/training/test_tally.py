"""The tally (`training.models.AssignmentTally`, kept by triggers) gives the matrix exactly the
counts that counting the assignments and certificates directly gives, whatever was written
and however (save, update, bulk_create, bulk_update, delete, cascades), wherever officers and
units moved, whatever jurisdictions changed, for any day, before or after the tally's date
rolled. Run on SQLite and on PostgreSQL (DATABASE_URL): the triggers differ."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import ProtectedError, QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certificates.models import Certificate
from courses.models import CoursePage, Enrolment
from officers.models import OfficerProfile, Unit, User
from tests.factories import make_course, make_officer, make_unit, set_jurisdiction
from tests.training.matrix_oracle import direct_counts
from training.matrix import completion_matrix
from training.models import Assignment, AssignmentTally, AssignmentTallyDate
from training.tally import TALLIED, tally_counts, tally_rebuild, tally_roll

JURISDICTIONS = ["all", "scotland", "england_wales"]
CHECK_DAYS = (-40, 0, 2, 31)


@dataclass
class World:
    forces: list[Unit]
    units: list[Unit]
    officers: list[User]
    courses: list[CoursePage]
    day: date  # the tally's date when the test starts


@pytest.fixture
def world(home) -> World:  # noqa: ANN001
    scotland = set_jurisdiction(make_unit("Scotland force"), "scotland")
    england = set_jurisdiction(make_unit("English force"), "england_wales")
    unknown = make_unit("Force of no jurisdiction")
    north = make_unit("North", scotland, Unit.Kind.DIVISION)
    team = make_unit("North team", north)
    south = make_unit("South team", scotland)
    london = make_unit("London team", england)
    units = [scotland, north, team, south, england, london, unknown]
    officers = [make_officer(unit=unit) for unit in (team, team, north, south, london, unknown)]
    courses = [
        make_course(home, title=f"Tally course {code}", modules=0, jurisdiction=code)
        for code in JURISDICTIONS
    ]
    day = AssignmentTallyDate.objects.get(pk=1).as_of
    return World([scotland, england, unknown], units, officers, courses, day)


def _scopes() -> list[tuple[list[str], int]]:
    """The groupings the matrix asks for: the roots, each unit's children (and officers
    placed on the unit itself), and one unit's total (a team's "All" row)."""
    units = list(Unit.objects.order_by("path"))
    roots = [u.path for u in units if u.depth == 1]
    scopes = [(roots, Unit.steplen), ([units[1].path], len(units[1].path))]
    scopes += [([unit.path], len(unit.path) + Unit.steplen) for unit in units]
    return scopes


def assert_exact(world: World) -> None:
    course_ids = [c.pk for c in world.courses]
    for offset in CHECK_DAYS:
        today = world.day + timedelta(days=offset)
        for roots, length in _scopes():
            got, _as_of = tally_counts(roots=roots, length=length, courses=course_ids, today=today)
            want = direct_counts(roots=roots, length=length, course_ids=course_ids, today=today)
            want = {key: counts for key, counts in want.items() if any(counts.values())}
            assert got == want, (offset, roots, length)


def _nth(queryset, n: int):  # noqa: ANN001, ANN202
    rows = list(queryset.order_by("pk"))
    return rows[n % len(rows)] if rows else None


def _certificate(user: User, course: CoursePage, expires_on: date | None, window: int) -> None:
    at = timezone.now()
    enrolment = Enrolment.objects.create(user=user, course=course, completed_at=at)
    number = next(_numbers)
    Certificate.objects.create(
        number=f"PW-TALLY-{number:06d}",
        code=f"tally-{number}",
        user=user,
        course=course,
        enrolment=enrolment,
        issued_at=at,
        expires_on=expires_on,
        refresher_window_days=window,
        officer_name="Tally Officer",
        course_title=course.title,
    )


_numbers = itertools.count(1)


def apply(world: World, op: str, a: int, b: int, c: int) -> None:  # noqa: C901, PLR0912
    """One write, chosen by `op`, with its operands drawn from a, b and c."""
    now = timezone.now()
    day = world.day + timedelta(days=c)
    user = world.officers[a % len(world.officers)]
    course = world.courses[b % len(world.courses)]
    assignments = Assignment.objects.all()
    if op == "assign":
        Assignment.objects.filter(user=user, course=course, current=True).update(current=False)
        Assignment.objects.create(
            user=user, course=course, due_on=day, started_at=now if b % 2 else None
        )
    elif op == "bulk_assign":
        taken = set(
            Assignment.objects.filter(course=course, current=True).values_list("user_id", flat=True)
        )
        Assignment.objects.bulk_create(
            Assignment(user=u, course=course, due_on=day + timedelta(days=i))
            for i, u in enumerate(world.officers)
            if u.pk not in taken
        )
    elif op == "complete" and (found := _nth(assignments, a)):
        found.completed_at = now
        found.save()
    elif op == "start" and (found := _nth(assignments, a)):
        Assignment.objects.filter(pk=found.pk).update(started_at=now)
    elif op == "reopen":
        Assignment.objects.filter(user=user).update(completed_at=None)
    elif op == "uncurrent" and (found := _nth(assignments, a)):
        Assignment.objects.filter(pk=found.pk).update(current=False)
    elif op == "delete" and (found := _nth(assignments, a)):
        found.delete()
    elif op == "due":
        changed = list(assignments.order_by("pk"))[a % 3 :: 2]
        for found in changed:
            found.due_on = day
        Assignment.objects.bulk_update(changed, ["due_on"])
    elif op == "move_officer":
        profile = OfficerProfile.objects.get(user=user)
        profile.unit = None if b % 7 == 0 else world.units[b % len(world.units)]
        profile.save()
    elif op == "move_force":
        force = None if b % 4 == 3 else world.forces[b % len(world.forces)]
        OfficerProfile.objects.filter(user=user).update(force=force)
    elif op == "drop_profile":
        OfficerProfile.objects.filter(user=user).delete()
        world.officers.remove(user)
        if len(world.officers) < 2:
            world.officers.append(make_officer(unit=world.units[c % len(world.units)]))
    elif op == "delete_user":
        try:
            with transaction.atomic():  # not user.delete(), which forgets the user's pk
                User.objects.filter(pk=user.pk).delete()
        except ProtectedError:  # certificates are kept: the officer stays
            return
        world.officers.remove(user)
        world.officers.append(make_officer(unit=world.units[c % len(world.units)]))
    elif op == "roll":
        tally_roll(to=day)
    elif op == "move_unit":
        unit = Unit.objects.get(pk=world.units[a % len(world.units)].pk)
        target = Unit.objects.get(pk=world.units[b % len(world.units)].pk)
        if unit.depth > 1 and not target.path.startswith(unit.path):
            unit.move(target, pos="last-child")
    elif op == "course_jurisdiction":
        CoursePage.objects.filter(pk=course.pk).update(jurisdiction=JURISDICTIONS[c % 3])
    elif op == "force_jurisdiction":
        force = world.forces[a % len(world.forces)]
        Unit.objects.filter(pk=force.pk).update(jurisdiction=(JURISDICTIONS + [""])[c % 4])
    elif op == "certificate":
        expires = None if c % 5 == 0 else world.day + timedelta(days=c * 3)
        _certificate(user, course, expires, 10 + b % 50)
    elif op == "revoke" and (found := _nth(Certificate.objects.all(), a)):
        Certificate.objects.filter(pk=found.pk).update(revoked_at=now)
    elif op == "supersede":
        certificates = list(Certificate.objects.order_by("pk"))
        if len(certificates) >= 2:
            old, new = certificates[a % len(certificates)], certificates[-1]
            if old.pk != new.pk:
                Certificate.objects.filter(pk=old.pk).update(superseded_by=new)
    elif op == "certificate_dates" and (found := _nth(Certificate.objects.all(), a)):
        Certificate.objects.filter(pk=found.pk).update(
            expires_on=day, refresher_from=day - timedelta(days=b % 40)
        )


OPERATIONS = [
    "assign",
    "bulk_assign",
    "complete",
    "start",
    "reopen",
    "uncurrent",
    "delete",
    "due",
    "move_officer",
    "move_force",
    "drop_profile",
    "delete_user",
    "roll",
    "move_unit",
    "course_jurisdiction",
    "force_jurisdiction",
    "certificate",
    "revoke",
    "supersede",
    "certificate_dates",
]
steps = st.lists(
    st.tuples(
        st.sampled_from(OPERATIONS),
        st.integers(0, 50),
        st.integers(0, 50),
        st.integers(-45, 45),
    ),
    min_size=1,
    max_size=14,
)


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_the_tally_agrees_with_counting_directly(world: World, steps: list) -> None:
    with transaction.atomic():
        start = list(world.officers)
        # A few assignments and certificates to begin with, the rest drawn.
        for i in range(len(world.officers)):
            apply(world, "assign", i, i, (i * 11) % 40 - 20)
        _certificate(world.officers[0], world.courses[0], world.day + timedelta(days=5), 30)
        for op, a, b, c in steps:
            apply(world, op, a, b, c)
        assert_exact(world)
        world.officers[:] = start
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_rolling_forward_and_back_keeps_it_exact(world: World) -> None:
    for i, user in enumerate(world.officers):
        for j in range(len(world.courses)):
            apply(world, "assign", i, j, (i * 7 + j * 5) % 30 - 10)
        _certificate(user, world.courses[i % 3], world.day + timedelta(days=i * 4), 20)
    for offset in (1, 9, 30, 2, -15, 0):
        assert tally_roll(to=world.day + timedelta(days=offset)) == world.day + timedelta(
            days=offset
        )
        assert AssignmentTallyDate.objects.get().as_of == world.day + timedelta(days=offset)
        assert_exact(world)


def _tally_rows(queryset: QuerySet[AssignmentTally]) -> list[tuple[int, ...]]:
    """Every counter of these tally rows, with its key, in a stable order."""
    return sorted(queryset.values_list("unit_id", "force_id", "course_id", *TALLIED))


@pytest.mark.django_db
def test_a_rebuild_counts_the_same(world: World) -> None:
    for i in range(len(world.officers)):
        apply(world, "assign", i, i, i * 3 - 8)
    _certificate(world.officers[1], world.courses[1], world.day + timedelta(days=10), 30)
    before = _tally_rows(
        AssignmentTally.objects.exclude(
            complete=0, overdue=0, in_progress=0, not_started=0, expiring=0
        )
    )
    AssignmentTally.objects.all().delete()
    tally_rebuild(as_of=world.day)
    after = _tally_rows(AssignmentTally.objects.all())
    assert after == before
    assert_exact(world)


@pytest.mark.django_db
def test_the_national_matrix_reads_the_tally_in_a_bounded_number_of_queries(
    world: World, django_user_model
) -> None:  # noqa: ANN001
    admin = django_user_model.objects.create_superuser(email="tally.admin@test.police.uk")
    counts = []
    for size in (1, 3):
        for i in range(len(world.officers) * size):
            apply(world, "assign", i, i + size, i - 5)
        with CaptureQueriesContext(connection) as captured:
            matrix = completion_matrix(admin, today=world.day + timedelta(days=2))
        counts.append(len(captured))
        direct = direct_counts(
            roots=[f.path for f in world.forces],
            length=Unit.steplen,
            course_ids=[c.pk for c in matrix.courses],
            today=world.day + timedelta(days=2),
        )
        for row in matrix.rows:
            for course_id, cell in row.cells.items():
                want = direct.get((row.unit.path, course_id))
                assert want is not None
                assert (cell.complete, cell.overdue, cell.in_progress, cell.not_started) == (
                    want["complete"],
                    want["overdue"],
                    want["in_progress"],
                    want["not_started"],
                )
                assert cell.total == sum(
                    want[n] for n in ("complete", "overdue", "in_progress", "not_started")
                )
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_the_command_rolls_and_rebuilds(world: World) -> None:
    from django.core.management import call_command

    for i in range(len(world.officers)):
        apply(world, "assign", i, i, i * 2 - 4)
    later = world.day + timedelta(days=3)
    call_command("tally_roll", "--to", later.isoformat(), stdout=io.StringIO())
    assert AssignmentTallyDate.objects.get().as_of == later
    assert_exact(world)
    AssignmentTally.objects.update(overdue=99)
    call_command("tally_roll", "--rebuild", stdout=io.StringIO())
    assert AssignmentTallyDate.objects.get().as_of == timezone.localdate()
    assert_exact(world)


@pytest.mark.django_db
def test_todays_matrix_rolls_a_tally_left_behind(world: World, django_user_model) -> None:  # noqa: ANN001
    admin = django_user_model.objects.create_superuser(email="tally.roller@test.police.uk")
    for i in range(len(world.officers)):
        apply(world, "assign", i, i, i - 3)
    today = timezone.localdate()
    tally_roll(to=today - timedelta(days=1))
    completion_matrix(admin)  # a day behind: corrected, not rolled
    assert AssignmentTallyDate.objects.get().as_of == today - timedelta(days=1)
    tally_roll(to=today - timedelta(days=5))
    completion_matrix(admin, today=today - timedelta(days=1))  # not today's: never rolls
    assert AssignmentTallyDate.objects.get().as_of == today - timedelta(days=5)
    completion_matrix(admin)
    assert AssignmentTallyDate.objects.get().as_of == today
    world.day = today
    assert_exact(world)
