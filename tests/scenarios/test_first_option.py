"""The check from the issue "Assessment that proves competence": an officer who always takes
the first option they are shown must not pass.

Every demo scenario is imported and published through the real services and played 20 times
through the player's pages, taking the first option displayed at every step. Attempts get their
seeds as in production (`secrets`); no seed is fixed. Taking the first option at random passes
a demo about 0.1% to 0.5% of the time (the engine can count it exactly: `pass_chance` below),
so 7 or more passes out of 20 (the 0.35 threshold) has a chance below 1 in 10^10: the check is
not flaky. Without the shuffle, "first displayed" would be "first written"; to show that the
check would then fail, each demo is also played with the best choice written first at every
decision, as the demo content used to be: unshuffled, that passes every time.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
from django.test import Client

from scenarios import engine
from scenarios.demo import DEMO_DIR, demo_scenario
from scenarios.models import Attempt, Scenario
from scenarios.selectors import attempt_options
from scenarios.services import attempt_choose, attempt_start, scenario_import, scenario_publish
from tests.factories import make_officer

PLAYS = 20
THRESHOLD = 0.35
DEMOS = sorted(path.name for path in DEMO_DIR.glob("*.json"))
FIRST_RADIO = re.compile(r'<input type="radio" name="choice" value="([^"]*)"')


def pass_chance(scenario: engine.Scenario) -> float:
    """The exact chance of passing by taking, at every step, a choice uniformly at random,
    which is what the first displayed option is under the shuffle (no demo pins a choice)."""
    threshold = engine.pass_threshold(scenario)

    @cache
    def chance(key: str, score: int, critical: bool) -> float:
        step = scenario.step(key)
        if step.is_ending:
            reached = threshold is None or score >= threshold
            return float(step.outcome in engine.PASSING_OUTCOMES and reached and not critical)
        return sum(
            chance(c.next, score + c.points, critical or c.critical) for c in step.choices
        ) / len(step.choices)

    return chance(scenario.start, 0, False)


def best_first(path: Path) -> bytes:
    """The demo as it used to be written: the best choice first at every decision."""
    document = json.loads(path.read_bytes())
    document["title"] += " (best first)"
    for step in document["steps"]:
        if "choices" in step:
            step["choices"].sort(key=lambda choice: -choice.get("points", 0))
    return json.dumps(document).encode()


def play_first_shown(client: Client, scenario: Scenario) -> tuple[bool | None, str | None]:
    """One attempt through the player's pages; (passed, the first option at the start)."""
    response = client.post(f"/scenarios/{scenario.pk}/start/")
    attempt = Attempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    opening = None
    for _ in range(100):
        page = client.get(f"/scenarios/attempts/{attempt.pk}/").content.decode()
        attempt.refresh_from_db()
        if attempt.is_finished:
            return attempt.passed, opening
        first = FIRST_RADIO.search(page).group(1)
        opening = opening or first
        response = client.post(
            f"/scenarios/attempts/{attempt.pk}/choose/",
            {"step": attempt.current_step, "choice": first},
        )
        assert response.status_code == 302, response.content[:300]
    raise AssertionError("the attempt did not finish")


@pytest.mark.parametrize("filename", DEMOS)
def test_taking_the_first_option_shown_does_not_pass_a_demo(org, filename: str) -> None:
    scenario = demo_scenario(filename)  # import and publish, as `seed_demo` does
    scenario.refresh_from_db()
    assert scenario.live
    played = scenario.to_engine()
    assert engine.validate(played) == []
    assert pass_chance(played) < 0.01

    client = Client()
    client.force_login(make_officer(unit=org.dundee))
    results = [play_first_shown(client, scenario) for _ in range(PLAYS)]
    passes = sum(bool(passed) for passed, _opening in results)
    assert passes / PLAYS < THRESHOLD, f"{filename}: {passes} of {PLAYS} passed"
    # The shuffle is live: the first option at the start was not the same every time.
    assert len({opening for _passed, opening in results}) > 1


@pytest.mark.parametrize("filename", DEMOS)
def test_the_check_would_fail_without_the_shuffle(org, filename: str) -> None:
    scenario = scenario_import(raw=best_first(DEMO_DIR / filename))
    scenario_publish(scenario=scenario)
    scenario.refresh_from_db()
    played = scenario.to_engine()
    # Unshuffled, the first option is the first written: the best, and a pass every time.
    state = engine.start(played)
    while not state.finished:
        state = engine.choose(played, state, step=state.current, choice=0)
    assert engine.result(played, state).passed

    officer = make_officer(unit=org.dundee)
    passes = 0
    for _ in range(PLAYS):
        attempt = attempt_start(user=officer, scenario_id=scenario.pk)
        while not attempt.is_finished:
            first = attempt_options(attempt=attempt, scenario=played)[0]
            attempt = attempt_choose(
                user=officer, attempt_id=attempt.pk, step=attempt.current_step, choice=first.id
            ).attempt
        passes += bool(attempt.passed)
    assert passes / PLAYS < THRESHOLD, f"{filename} (best first): {passes} of {PLAYS} passed"
