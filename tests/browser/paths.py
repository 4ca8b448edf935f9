"""Find a passing and a failing route through a scenario, from the engine alone.

A route is a list of (step key, choice id) pairs: the page shows the choices shuffled per
attempt and posts the chosen one's id, so a route names choices by id, never by position.
"""

from __future__ import annotations

from scenarios import engine


def routes(scenario: engine.Scenario, limit: int = 20_000) -> list[list[tuple[str, str]]]:
    """Routes from the start to an ending that never revisit a step."""
    found: list[list[tuple[str, str]]] = []

    def walk(key: str, taken: list[tuple[str, str]], seen: set[str]) -> None:
        if len(found) >= limit:
            return
        step = scenario.step(key)
        if step.is_ending:
            found.append(list(taken))
            return
        for choice in step.choices:
            if choice.next not in seen:
                walk(choice.next, [*taken, (key, choice.id)], seen | {choice.next})

    walk(scenario.start, [], {scenario.start})
    return found


def route_with(scenario: engine.Scenario, *, passed: bool) -> list[tuple[str, str]]:
    for route in routes(scenario):
        if engine.result(scenario, engine.replay(scenario, route)).passed is passed:
            return route
    raise AssertionError(f"no route with passed={passed}")
