"""The player as an assessment: choices shown in an order fixed per attempt, posted by id; the
result page that follows the route; analytics that count by choice id across revisions."""

from __future__ import annotations

import copy
import json
import re

import pytest
from django.test import Client

from scenarios import engine
from scenarios.mapping import stream_from_scenario
from scenarios.models import Attempt, Scenario
from scenarios.selectors import step_statistics
from scenarios.services import scenario_publish
from tests.factories import make_officer
from tests.scenarios.conftest import publish_document
from tests.scenarios.test_engine_assessment import V2

RADIO = re.compile(r'<input type="radio" name="choice" value="([^"]*)"')


def shown(client: Client, attempt: Attempt) -> list[str]:
    """The choice ids the step page offers, top to bottom."""
    response = client.get(f"/scenarios/attempts/{attempt.pk}/")
    assert response.status_code == 200
    return RADIO.findall(response.content.decode())


def start(client: Client, scenario: Scenario) -> Attempt:
    response = client.post(f"/scenarios/{scenario.pk}/start/")
    assert response.status_code == 302
    return Attempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def choose(client: Client, attempt: Attempt, step: str, choice: str) -> None:
    response = client.post(
        f"/scenarios/attempts/{attempt.pk}/choose/", {"step": step, "choice": choice}
    )
    assert response.status_code == 302, response.content[:300]


def signed_in(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


WIDE = {  # one decision with five choices, one of them pinned ("None of these")
    "format": "pathways-scenario/2",
    "title": "Five ways",
    "pass_mark": 50,
    "start": "a",
    "steps": [
        {
            "key": "a",
            "text": "Which?",
            "choices": [
                {"id": "none", "text": "None of these", "next": "end", "pinned": True},
                {"id": "best", "text": "Best", "next": "end", "points": 2},
                {"id": "two", "text": "Two", "next": "end"},
                {"id": "three", "text": "Three", "next": "end"},
                {"id": "four", "text": "Four", "next": "end"},
            ],
        },
        {"key": "end", "text": "Done.", "outcome": "pass"},
    ],
}


@pytest.fixture
def wide(db) -> Scenario:  # noqa: ANN001
    return publish_document(WIDE)


def test_the_order_is_fixed_for_an_attempt_across_reloads_and_devices(learner, wide) -> None:
    player = signed_in(learner)
    attempt = start(player, wide)
    order = shown(player, attempt)
    assert sorted(order) == ["best", "four", "none", "three", "two"]
    assert shown(player, attempt) == order  # reload
    other_device = signed_in(learner)
    assert start(other_device, wide).pk == attempt.pk  # resume
    assert shown(other_device, attempt) == order
    attempt.refresh_from_db()
    shuffled = engine.display_order(wide.to_engine().step("a"), attempt.order_seed)
    assert order == [c.id for c in shuffled]
    # A refused post shows the step again in the same order.
    response = other_device.post(
        f"/scenarios/attempts/{attempt.pk}/choose/", {"step": "a", "choice": "0"}
    )
    assert response.status_code == 400
    assert RADIO.findall(response.content.decode()) == order


def test_attempts_differ_in_order_and_pinned_choices_stay_last(org, wide) -> None:
    orders = []
    for _ in range(8):
        player = signed_in(make_officer(unit=org.dundee))
        order = shown(player, start(player, wide))
        assert order[-1] == "none"  # "None of these" always last
        orders.append(tuple(order))
    assert len(set(orders)) >= 2  # 24 orders possible; eight attempts all alike: about 1 in 10^10
    seeds = set(Attempt.objects.values_list("order_seed", flat=True))
    assert len(seeds) == 8


def test_a_replay_of_the_same_seed_shows_the_same_order(learner, wide) -> None:
    player = signed_in(learner)
    first = start(player, wide)
    order = shown(player, first)
    choose(player, first, "a", order[0])
    again = start(player, wide)
    assert again.pk != first.pk
    Attempt.objects.filter(pk=again.pk).update(order_seed=first.order_seed)
    assert shown(player, again) == order


def test_the_step_says_how_many_decisions_there_can_be(learner, db) -> None:
    scenario = publish_document(V2)
    player = signed_in(learner)
    attempt = start(player, scenario)
    assert (
        "Decision 1 of up to 2" in player.get(f"/scenarios/attempts/{attempt.pk}/").content.decode()
    )
    choose(player, attempt, "a", "call")
    assert (
        "Decision 2 of up to 2" in player.get(f"/scenarios/attempts/{attempt.pk}/").content.decode()
    )


def test_with_a_loop_the_step_says_only_the_decision_number(learner, db) -> None:
    doc = copy.deepcopy(V2)
    doc["steps"][1]["choices"].append(
        {"id": "back", "text": "Start over", "next": "a", "points": -4}
    )
    scenario = publish_document(doc)
    player = signed_in(learner)
    page = player.get(f"/scenarios/attempts/{start(player, scenario).pk}/").content.decode()
    assert "Decision 1" in page and "of up to" not in page


# ------------------------------------------------------------------------- the result page


def finish(client: Client, scenario: Scenario, route: list[tuple[str, str]]) -> str:
    attempt = start(client, scenario)
    for step, choice in route:
        choose(client, attempt, step, choice)
    return client.get(f"/scenarios/attempts/{attempt.pk}/").content.decode()


def test_the_result_follows_the_route(learner, db) -> None:
    scenario = publish_document(V2)
    player = signed_in(learner)
    page = finish(player, scenario, [("a", "call"), ("b", "stay")])
    assert "Passed" in page
    assert "Preserving life comes first." in page  # the general debrief
    assert "You called 999 early." in page and "You stayed with him." in page
    assert "Call 999 before anything else." not in page
    assert "What went well" in page and "What to do differently" not in page

    page = finish(player, scenario, [("a", "wait"), ("b", "go")])
    assert "Not passed" in page
    assert "You called 999 early." not in page and "You stayed with him." not in page
    assert "Call 999 before anything else." in page
    went_well, _sep, to_change = page.partition("What to do differently")
    assert "What went well" not in went_well
    assert (
        "<strong>Wait</strong>" in to_change and "2 points fewer than the best choice" in to_change
    )
    assert "<strong>Go</strong>" in to_change and "unsafe" in to_change


def test_a_neutral_ending_says_not_passed_try_again(learner, db) -> None:
    doc = copy.deepcopy(V2)
    doc["steps"][1]["choices"].append({"id": "slow", "text": "Slow", "next": "meh", "points": 2})
    doc["steps"].append({"key": "meh", "text": "Nobody was hurt.", "outcome": "neutral"})
    scenario = publish_document(doc)
    page = finish(signed_in(learner), scenario, [("a", "call"), ("b", "slow")])
    assert "Not passed: try again." in page
    attempt = Attempt.objects.get()
    assert (attempt.outcome, attempt.percent, attempt.passed) == ("neutral", 100, False)


def test_no_lesson_button_without_a_lesson_or_a_pass(learner, db) -> None:
    scenario = publish_document(V2)
    player = signed_in(learner)
    page = finish(player, scenario, [("a", "call"), ("b", "stay")])
    assert "Passed" in page and "Mark the lesson complete" not in page  # no lesson


# ----------------------------------------------------- analytics count by id, not position


def _revise(scenario: Scenario, doc: dict) -> None:
    scenario.steps = json.loads(json.dumps(stream_from_scenario(engine.parse_document(doc))))
    scenario.save_revision()
    scenario_publish(scenario=scenario)
    scenario.refresh_from_db()


def test_analytics_count_a_reordered_revision_by_choice(org, administrator, no_staff_mfa) -> None:
    scenario = publish_document(V2)
    first_revision = scenario.live_revision_id
    for choice in ("call", "call", "wait"):
        player = signed_in(make_officer(unit=org.dundee))
        finish(player, scenario, [("a", choice), ("b", "stay")])

    # The author reverses the choices, drops "wait", adds "shout", and publishes.
    doc = copy.deepcopy(V2)
    choices = doc["steps"][0]["choices"]
    doc["steps"][0]["choices"] = [
        {"id": "shout", "text": "Shout for help", "next": "b"},
        *[c for c in reversed(choices) if c["id"] != "wait"],
    ]
    _revise(scenario, doc)
    assert scenario.live_revision_id != first_revision
    assert [c.id for c in scenario.to_engine().step("a").choices] == ["shout", "none", "call"]
    for choice in ("call", "shout"):
        player = signed_in(make_officer(unit=org.dundee))
        finish(player, scenario, [("a", choice), ("b", "stay")])

    built = scenario.to_engine()
    total, stats = step_statistics(
        built, Attempt.objects.filter(scenario=scenario), versions=[built, engine_v2()]
    )
    counts = {(c.id, c.text, c.count, c.current) for c in stats[0].choices}
    assert total == 5
    assert counts == {
        ("shout", "Shout for help", 1, True),
        ("none", "None of these", 0, True),
        ("call", "Call 999", 3, True),  # two before the reordering, one after
        ("wait", "Wait", 1, False),  # only the first version has it
    }

    client = signed_in(administrator)
    url = f"/admin/snippets/scenarios/scenario/analytics/{scenario.pk}/"
    body = client.get(url).content.decode()  # all versions
    assert "5 attempts" in body
    assert re.search(r"<td>Call 999</td><td>3</td>", body)
    assert re.search(r"<td>Wait <em>\(not in this version\)</em></td><td>1</td>", body)
    body = client.get(f"{url}?revision={first_revision}").content.decode()
    assert "3 attempts" in body
    assert re.search(r"<td>Call 999</td><td>2</td>", body)
    assert re.search(r"<td>Wait</td><td>1</td>", body)


def engine_v2() -> engine.Scenario:
    return engine.parse_document(V2)
