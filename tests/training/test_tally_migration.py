"""Migration 0006 counts what a database already holds into the tally, and its triggers keep
counting after it; undone, it leaves no trigger behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from certificates.models import Certificate
from courses.models import Enrolment
from officers.models import Unit
from tests.factories import make_course, make_officer
from tests.training.matrix_oracle import direct_counts
from training.models import Assignment
from training.tally import tally_counts

BEFORE_THE_TALLY = [("training", "0004_export_file")]


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _triggers() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'training_tally_%%'")
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'training_tally_%%'"
            )
        return cursor.fetchone()[0]


def _assert_exact(course_ids: list[int], today) -> None:  # noqa: ANN001
    roots = [u.path for u in Unit.get_root_nodes()]
    for offset in (0, 3, 40):
        day = today + timedelta(days=offset)
        got, _as_of = tally_counts(roots=roots, length=Unit.steplen, courses=course_ids, today=day)
        want = direct_counts(roots=roots, length=Unit.steplen, course_ids=course_ids, today=day)
        assert got == want
        assert sum(c["overdue"] + c["not_started"] + c["complete"] for c in got.values())


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_rows_already_there(org, home) -> None:  # noqa: ANN001
    today = timezone.localdate()
    officers = [make_officer(unit=u) for u in (org.dundee, org.leith, org.other_force)]
    courses = [make_course(home, title=f"Before the tally {n}", modules=0) for n in range(2)]
    _migrate(BEFORE_THE_TALLY)
    try:
        assert _triggers() == 0
        assert "training_assignmenttally" not in connection.introspection.table_names()
        for i, user in enumerate(officers):
            for j, course in enumerate(courses):
                Assignment.objects.create(
                    user=user,
                    course=course,
                    due_on=today + timedelta(days=i * 10 - 12 + j),
                    completed_at=timezone.now() if (i + j) % 3 == 0 else None,
                )
        enrolment = Enrolment.objects.create(
            user=officers[0], course=courses[0], completed_at=timezone.now()
        )
        Certificate.objects.create(
            number="PW-MIGRATE-000001",
            code="migrate-1",
            user=officers[0],
            course=courses[0],
            enrolment=enrolment,
            expires_on=today + timedelta(days=20),
            refresher_window_days=30,
            officer_name="Officer",
            course_title=courses[0].title,
        )
    finally:
        _migrate(_latest())

    assert _triggers() > 0
    course_ids = [c.pk for c in courses]
    _assert_exact(course_ids, today)
    assert any(
        c["expiring"]
        for c in tally_counts(
            roots=[org.force.path], length=Unit.steplen, courses=course_ids, today=today
        )[0].values()
    )
    # And the triggers count from here on.
    Assignment.objects.filter(user=officers[1]).update(completed_at=timezone.now())
    Assignment.objects.filter(user=officers[2]).delete()
    _assert_exact(course_ids, today)

    _migrate(BEFORE_THE_TALLY)
    try:
        assert _triggers() == 0
        Assignment.objects.create(user=officers[2], course=courses[0], due_on=today)
    finally:
        _migrate(_latest())
    _assert_exact(course_ids, today)
