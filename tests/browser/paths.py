"""Find a passing and a failing route through a scenario, from the engine alone."""

from __future__ import annotations

from scenarios import engine


def routes(scenario: engine.Scenario, limit: int = 20_000) -> list[list[tuple[str, int]]]:
    """Routes from the start to an ending that never revisit a step."""
    found: list[list[tuple[str, int]]] = []

    def walk(key: str, taken: list[tuple[str, int]], seen: set[str]) -> None:
        if len(found) >= limit:
            return
        step = scenario.step(key)
        if step.is_ending:
            found.append(list(taken))
            return
        for index, choice in enumerate(step.choices):
            if choice.next not in seen:
                walk(choice.next, [*taken, (key, index)], seen | {choice.next})

    walk(scenario.start, [], {scenario.start})
    return found


def route_with(scenario: engine.Scenario, *, passed: bool) -> list[tuple[str, int]]:
    for route in routes(scenario):
        if engine.result(scenario, engine.replay(scenario, route)).passed is passed:
            return route
    raise AssertionError(f"no route with passed={passed}")
