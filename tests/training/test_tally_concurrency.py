"""On PostgreSQL, the tally's date row is the lock between writers and the daily roll: a
write in flight holds it FOR SHARE until it commits, so a roll never misses it; a write during
a roll waits, then counts against the new date."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction

from officers.models import Unit
from tests.factories import make_course, make_officer
from tests.training.test_tally_migration import _assert_exact
from training.models import Assignment, AssignmentTallyDate
from training.tally import tally_counts, tally_roll


@pytest.mark.django_db(transaction=True)
def test_a_roll_waits_for_writers_and_writers_wait_for_a_roll(org, home) -> None:  # noqa: ANN001
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers")
    officers = [make_officer(unit=org.dundee) for _ in range(2)]
    course = make_course(home, title="Concurrent", modules=0)
    day = AssignmentTallyDate.objects.get().as_of
    written, release, rolled = threading.Event(), threading.Event(), threading.Event()

    def write(user) -> None:  # noqa: ANN001
        try:
            with transaction.atomic():
                Assignment.objects.create(user=user, course=course, due_on=day)
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    def roll(to) -> None:  # noqa: ANN001
        try:
            tally_roll(to=to)
            rolled.set()
        finally:
            connections.close_all()

    writer = threading.Thread(target=write, args=(officers[0],))
    writer.start()
    assert written.wait(10)
    roller = threading.Thread(target=roll, args=(day + timedelta(days=5),))
    roller.start()
    assert not rolled.wait(1), "the roll did not wait for the writer"
    release.set()
    writer.join(10)
    roller.join(10)
    assert rolled.is_set()
    _assert_exact([course.pk], day + timedelta(days=5))
    got, as_of = tally_counts(
        roots=[org.force.path], length=Unit.steplen, courses=[course.pk], today=as_of_day(5, day)
    )
    assert as_of == day + timedelta(days=5)
    assert got[(org.force.path, course.pk)]["overdue"] == 1

    # And the other way round: a roll holds the date; a writer waits, then counts against it.
    written.clear()
    release.clear()
    rolled.clear()

    def hold_roll(to) -> None:  # noqa: ANN001
        try:
            with transaction.atomic():
                tally_roll(to=to)
                rolled.set()
                release.wait(10)
        finally:
            connections.close_all()

    roller = threading.Thread(target=hold_roll, args=(day + timedelta(days=9),))
    roller.start()
    assert rolled.wait(10)
    writer = threading.Thread(target=write, args=(officers[1],))
    writer.start()
    assert not written.wait(1), "the writer did not wait for the roll"
    release.set()
    roller.join(10)
    assert written.wait(10)
    writer.join(10)
    _assert_exact([course.pk], day + timedelta(days=9))
    got, as_of = tally_counts(
        roots=[org.force.path], length=Unit.steplen, courses=[course.pk], today=as_of_day(9, day)
    )
    assert (as_of, got[(org.force.path, course.pk)]["overdue"]) == (as_of_day(9, day), 2)


def as_of_day(days: int, day):  # noqa: ANN001, ANN201
    return day + timedelta(days=days)
