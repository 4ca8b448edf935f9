"""scenarios.0003: attempts recorded by position get choice ids and a seed of their own.

A database from before the change holds revisions whose choices have no stored id (as
`scenario_import` wrote them) or Wagtail's own item ids (as the editor writes them), and
attempt choices with a position only. After the migration every stored choice has an id, each
recorded choice names the id at its position in its own attempt's revision, and every attempt
has its own random seed."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from wagtail.models import Revision

from scenarios import engine
from scenarios.models import Attempt, AttemptChoice, Scenario, engine_for_revision
from scenarios.selectors import step_statistics
from tests.factories import make_officer
from tests.scenarios.conftest import DOC, publish_document

BEFORE = [("scenarios", "0002_attempt_lesson_any_page")]


def _migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _legacy(steps: list[dict]) -> list[dict]:
    """Step data as the previous release stored it: choices as bare values, without ids."""
    for block in steps:
        value = block["value"]
        value["choices"] = [item["value"] for item in value["choices"]]
        for item in value["choices"]:
            item.pop("pinned", None)
            item.pop("sets", None)
        value.pop("debriefs", None)
    return steps


def _editor_style(steps: list[dict]) -> list[dict]:
    """Step data as the editor stores it: Wagtail's random item ids; "arrive" reordered."""
    for block in steps:
        for item in block["value"]["choices"]:
            item["id"] = str(uuid.uuid4())
    steps[0]["value"]["choices"].reverse()
    return steps


@pytest.mark.django_db(transaction=True)
def test_recorded_choices_get_the_ids_of_their_own_revision(org) -> None:
    officers = [make_officer(unit=org.dundee) for _ in range(3)]
    scenario = publish_document(DOC)
    imported = scenario.live_revision_id
    edited_steps = _editor_style(json.loads(json.dumps(list(scenario.steps.raw_data))))
    scenario.steps = edited_steps
    edited = scenario.save_revision().pk
    uuids = [item["id"] for item in edited_steps[0]["value"]["choices"]]  # shout, search, check
    stay = edited_steps[1]["value"]["choices"][0]["id"]

    executor = _migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        old_revision = old.get_model("wagtailcore", "Revision")
        row = old_revision.objects.get(pk=imported)
        row.content["steps"] = json.dumps(_legacy(json.loads(row.content["steps"])))
        row.save()
        old_scenario = old.get_model("scenarios", "Scenario")
        raw = _legacy(json.loads(json.dumps(list(old_scenario.objects.get().steps.raw_data))))
        old_scenario.objects.update(steps=raw)

        old_attempt = old.get_model("scenarios", "Attempt")
        old_choice = old.get_model("scenarios", "AttemptChoice")
        routes = [  # (revision, [(step, position)])
            (imported, [("arrive", 0), ("call", 0)]),  # check and call, then stay
            (imported, [("arrive", 2), ("call", 1)]),  # shout, then leave
            (edited, [("arrive", 0), ("call", 0)]),  # shout (first now), then stay
        ]
        for officer, (revision, route) in zip(officers, routes, strict=True):
            attempt = old_attempt.objects.create(
                user_id=officer.pk,
                scenario_id=scenario.pk,
                revision_id=revision,
                current_step="good-end",
                finished_at=timezone.now(),
            )
            for position, (step, index) in enumerate(route):
                old_choice.objects.create(
                    attempt=attempt, position=position, step=step, choice_index=index, points=0
                )
    finally:
        _migrate(_latest())

    recorded = [
        list(
            AttemptChoice.objects.filter(attempt__user=officer).values_list("choice_id", flat=True)
        )
        for officer in officers
    ]
    assert recorded == [["c1", "c1"], ["c3", "c2"], [uuids[0], stay]]
    seeds = list(Attempt.objects.values_list("order_seed", flat=True))
    assert None not in seeds and len(set(seeds)) == 3

    # The stored data now carries the ids, so they no longer depend on how it is read.
    stored = json.loads(Revision.objects.get(pk=imported).content["steps"])
    assert [item["id"] for item in stored[0]["value"]["choices"]] == ["c1", "c2", "c3"]
    assert [c.id for c in Scenario.objects.get().to_engine().step("arrive").choices] == [
        "c1",
        "c2",
        "c3",
    ]
    first = engine_for_revision(Revision.objects.get(pk=imported))
    assert first == engine_for_revision(Revision.objects.get(pk=imported))
    later = engine_for_revision(Revision.objects.get(pk=edited))
    assert [c.id for c in later.step("arrive").choices] == uuids

    # And the analytics of the first version count the recorded choices by those ids.
    _total, stats = step_statistics(first, Attempt.objects.filter(revision_id=imported))
    arrive = {c.id: c.count for c in stats[0].choices}
    assert arrive == {"c1": 1, "c2": 0, "c3": 1}
    # The player reads the migrated attempts: the result pages replay them.
    for attempt in Attempt.objects.all():
        played = engine_for_revision(attempt.revision)
        engine.replay(played, [(c.step, c.choice_id) for c in attempt.choices.all()])


@pytest.mark.django_db(transaction=True)
def test_the_migration_can_be_undone_and_done_again(org) -> None:
    officer = make_officer(unit=org.dundee)
    scenario = publish_document(DOC)
    attempt = Attempt.objects.create(
        user=officer, scenario=scenario, revision=scenario.live_revision, current_step="arrive"
    )
    AttemptChoice.objects.create(
        attempt=attempt, position=0, step="arrive", choice_id="c3", choice_index=2, points=0
    )
    try:
        executor = _migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        assert old.get_model("scenarios", "AttemptChoice").objects.get().choice_index == 2
    finally:
        _migrate(_latest())
    again = AttemptChoice.objects.get()
    assert (again.choice_index, again.choice_id) == (2, "c3")
    assert Attempt.objects.get().order_seed is not None
