"""The training-lead models moved from `courses` to `training` (courses.0006, training.0001 and
0002). A database made before the move keeps every row, its constraints, and the roles'
permissions; and the move can be undone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import make_course, make_officer
from training.models import Assignment, AssignmentRule, ExportLog, Reminder

BEFORE_THE_MOVE = [("courses", "0005_one_current_assignment")]
MOVED = ("assignmentrule", "assignment", "reminder", "exportlog")


def _migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_keeps_its_rows_and_permissions(org, home):
    lead = make_officer(unit=org.north, leads=[org.north])
    learner = make_officer(unit=org.dundee)
    course = make_course(home, title="Moved course", modules=1, lessons=1)
    group = Group.objects.create(name="Leads before the move")
    group.permissions.add(Permission.objects.get(codename="view_assignment"))
    today = timezone.localdate()

    # The schema as the previous release left it: the models belong to courses.
    executor = _migrate(BEFORE_THE_MOVE)
    try:
        assert {"courses_assignment", "courses_reminder"} <= _tables()
        assert "training_assignment" not in _tables()
        old = executor.loader.project_state(BEFORE_THE_MOVE).apps
        rule = old.get_model("courses", "AssignmentRule").objects.create(
            course_id=course.pk, unit_id=org.north.pk, due_days=30, created_by_id=lead.pk
        )
        rule.officers.add(learner.pk)
        assignment = old.get_model("courses", "Assignment").objects.create(
            user_id=learner.pk,
            course_id=course.pk,
            rule=rule,
            due_on=today + timedelta(days=30),
            unit_path=org.dundee.path,
            current=True,
        )
        old.get_model("courses", "Reminder").objects.create(
            user_id=learner.pk, kind="assigned", assignment=assignment, subject="New course"
        )
        old.get_model("courses", "ExportLog").objects.create(
            user_id=lead.pk, what="matrix", format="csv", filters={"unit": "3"}
        )
        content_types = old.get_model("contenttypes", "ContentType").objects
        assert set(content_types.filter(model__in=MOVED).values_list("app_label", flat=True)) == {
            "courses"
        }
    finally:
        _migrate(_latest())

    assert "courses_assignment" not in _tables() and "training_assignment" in _tables()
    moved_rule = AssignmentRule.objects.get()
    assert (moved_rule.course_id, moved_rule.unit_id, moved_rule.due_days) == (
        course.pk,
        org.north.pk,
        30,
    )
    assert list(moved_rule.officers.all()) == [learner]
    moved = Assignment.objects.get()
    assert (moved.user, moved.rule, moved.unit_path, moved.current) == (
        learner,
        moved_rule,
        org.dundee.path,
        True,
    )
    assert Reminder.objects.get().assignment == moved
    assert ExportLog.objects.get().filters == {"unit": "3"}
    # The group keeps its permission, now on the training app's model.
    assert Permission.objects.get(codename="view_assignment").content_type.app_label == "training"
    assert group.permissions.filter(codename="view_assignment").exists()
    # The constraints came along under their new names: still one current assignment.
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            user=learner, course=course, due_on=today, unit_path=org.dundee.path, current=True
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(user=learner, kind="assigned", assignment=moved, subject="Again")


@pytest.mark.django_db(transaction=True)
def test_the_move_can_be_undone_without_losing_rows(org, home):
    learner = make_officer(unit=org.dundee)
    course = make_course(home, title="Round trip", modules=1, lessons=1)
    Assignment.objects.create(
        user=learner, course=course, due_on=timezone.localdate(), unit_path=org.dundee.path
    )
    try:
        executor = _migrate(BEFORE_THE_MOVE)
        old = executor.loader.project_state(BEFORE_THE_MOVE).apps
        assert old.get_model("courses", "Assignment").objects.get().user_id == learner.pk
    finally:
        _migrate(_latest())
    assert Assignment.objects.get().user == learner
