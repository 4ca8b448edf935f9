"""Traversal: playing an attempt through a Scenario, one choice at a time.

An attempt is an immutable AttemptState; `start`, `choose` and `replay` make new ones and refuse
impossible moves with an EngineError. `result` scores a finished attempt by the rules in
`analysis`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scenarios.engine.analysis import max_score, score_percent, threshold_for
from scenarios.engine.model import PASSING_OUTCOMES, Scenario, Step


class EngineError(Exception):
    """A move that the engine refuses; `code` is stable for the server and the tests."""

    code = "engine_error"


class AttemptFinished(EngineError):
    code = "finished"


class WrongStep(EngineError):
    """The choice is for a step other than the current one: a replay, double submit or
    stale tab."""

    code = "wrong_step"


class BadChoice(EngineError):
    code = "bad_choice"


class NotFinished(EngineError):
    code = "not_finished"


class BrokenScenario(EngineError):
    """The attempt points at a step the scenario does not have (it changed underneath)."""

    code = "broken_scenario"


@dataclass(frozen=True)
class TakenChoice:
    step: str
    choice_index: int
    points: int
    critical: bool


@dataclass(frozen=True)
class AttemptState:
    current: str
    path: tuple[TakenChoice, ...] = ()
    score: int = 0
    critical: bool = False
    finished: bool = False


@dataclass(frozen=True)
class Result:
    outcome: str
    score: int
    max_score: int
    percent: int
    passed: bool
    critical_taken: bool
    pass_threshold: int | None


def _step_or_broken(s: Scenario, key: str) -> Step:
    try:
        return s.step(key)
    except KeyError:
        raise BrokenScenario(f'The scenario has no step "{key}".') from None


def start(s: Scenario) -> AttemptState:
    first = _step_or_broken(s, s.start)
    return AttemptState(current=first.key, finished=first.is_ending)


def choose(s: Scenario, state: AttemptState, *, step: str, choice: int) -> AttemptState:
    """Take choice number `choice` (from 0) at `step`, which must be the current step."""
    if state.finished:
        raise AttemptFinished("This attempt has already finished.")
    if step != state.current:
        raise WrongStep(f'The current step is "{state.current}", not "{step}".')
    here = _step_or_broken(s, state.current)
    if isinstance(choice, bool) or not isinstance(choice, int):
        raise BadChoice(f"The choice must be a number, not {choice!r}.")
    if not 0 <= choice < len(here.choices):
        raise BadChoice(f'Step "{step}" has no choice {choice}.')
    taken = here.choices[choice]
    after = _step_or_broken(s, taken.next)
    return AttemptState(
        current=after.key,
        path=(*state.path, TakenChoice(here.key, choice, taken.points, taken.critical)),
        score=state.score + taken.points,
        critical=state.critical or taken.critical,
        finished=after.is_ending,
    )


def replay(s: Scenario, choices: Iterable[tuple[str, int]]) -> AttemptState:
    """Rebuild an attempt from stored (step, choice) pairs, checking every move again."""
    state = start(s)
    for step, choice in choices:
        state = choose(s, state, step=step, choice=choice)
    return state


def result(s: Scenario, state: AttemptState) -> Result:
    if not state.finished:
        raise NotFinished("This attempt has not reached an ending yet.")
    ending = _step_or_broken(s, state.current)
    best = max_score(s)
    threshold = threshold_for(s.pass_mark, best)
    passed = (
        ending.outcome in PASSING_OUTCOMES
        and not state.critical
        and (threshold is None or state.score >= threshold)
    )
    return Result(
        outcome=ending.outcome or "",
        score=state.score,
        max_score=best,
        percent=score_percent(state.score, best),
        passed=passed,
        critical_taken=state.critical,
        pass_threshold=threshold,
    )


def passes(s: Scenario, state: AttemptState) -> bool:
    """Whether the attempt has finished and passed."""
    return state.finished and result(s, state).passed
