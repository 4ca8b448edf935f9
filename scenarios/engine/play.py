"""Traversal: playing an attempt through a Scenario, one choice at a time.

An attempt is an immutable AttemptState; `start`, `choose` and `replay` make new ones and refuse
impossible moves with an EngineError. `result` scores a finished attempt by the rules in
`analysis`; `debriefs_for` and `review` say what the officer reads at the end. `display_order`
is the order in which an attempt shows a step's choices.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from scenarios.engine.analysis import max_score, score_percent, threshold_for
from scenarios.engine.model import PASSING_OUTCOMES, Choice, Scenario, Step


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
    """A choice taken: its id, and its position in the authored order of the revision played
    (kept for history; analytics count by id)."""

    step: str
    choice_index: int
    points: int
    critical: bool
    choice_id: str = ""


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


def choose(s: Scenario, state: AttemptState, *, step: str, choice: str | int) -> AttemptState:
    """Take a choice at `step`, which must be the current step.

    `choice` is the choice's id, as the server receives it from a form. An int is a position
    in the authored order (from 0), for generators and tests that walk the authored list; a
    string of digits is an id like any other, never a position.
    """
    if state.finished:
        raise AttemptFinished("This attempt has already finished.")
    if step != state.current:
        raise WrongStep(f'The current step is "{state.current}", not "{step}".')
    here = _step_or_broken(s, state.current)
    if isinstance(choice, str):
        index = next((i for i, c in enumerate(here.choices) if c.id == choice), None)
        if index is None:
            raise BadChoice(f'Step "{step}" has no choice with the id {choice!r}.')
    elif isinstance(choice, int) and not isinstance(choice, bool):
        if not 0 <= choice < len(here.choices):
            raise BadChoice(f'Step "{step}" has no choice {choice}.')
        index = choice
    else:
        raise BadChoice(f"The choice must be a choice id, not {choice!r}.")
    taken = here.choices[index]
    after = _step_or_broken(s, taken.next)
    made = TakenChoice(here.key, index, taken.points, taken.critical, taken.id)
    return AttemptState(
        current=after.key,
        path=(*state.path, made),
        score=state.score + taken.points,
        critical=state.critical or taken.critical,
        finished=after.is_ending,
    )


def replay(s: Scenario, choices: Iterable[tuple[str, str | int]]) -> AttemptState:
    """Rebuild an attempt from stored (step, choice id) pairs, checking every move again."""
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


# --- What the officer sees -----------------------------------------------------------------------


def display_order(step: Step, seed: int) -> tuple[Choice, ...]:
    """The order in which an attempt with this seed shows the step's choices.

    The choices that are not pinned come in an order fixed by (seed, step key, choice id) alone:
    the same attempt sees the same order on every reload, resume or replay, other attempts
    (other seeds) see other orders, and neither the authored order nor added or removed choices
    move the others relative to each other. Pinned choices ("None of these") follow, in
    authored order.
    """

    def rank(choice: Choice) -> tuple[bytes, str]:
        material = f"{seed}\x1f{step.key}\x1f{choice.id}".encode()
        return hashlib.sha256(material).digest(), choice.id

    shuffled = sorted((c for c in step.choices if not c.pinned), key=rank)
    return (*shuffled, *(c for c in step.choices if c.pinned))


def _taken(s: Scenario, made: TakenChoice) -> tuple[Step, Choice]:
    step = _step_or_broken(s, made.step)
    if made.choice_id:
        return step, step.choice(made.choice_id)
    return step, step.choices[made.choice_index]


def flags_set(s: Scenario, state: AttemptState) -> frozenset[str]:
    """The flags set by the choices the attempt took."""
    return frozenset(flag for made in state.path for flag in _taken(s, made)[1].sets)


def debriefs_for(s: Scenario, state: AttemptState) -> tuple[str, ...]:
    """What the ending says to this attempt: its general debrief (if any), then each
    conditional debrief whose condition holds for the flags the attempt's choices set."""
    if not state.finished:
        raise NotFinished("This attempt has not reached an ending yet.")
    ending = _step_or_broken(s, state.current)
    flags = flags_set(s, state)
    texts = [ending.debrief] if ending.debrief.strip() else []
    texts += [debrief.text for debrief in ending.debriefs if debrief.holds(flags)]
    return tuple(texts)


@dataclass(frozen=True)
class Reviewed:
    """A choice taken, beside the most points any choice at its step was worth."""

    step: Step
    choice: Choice
    best_points: int

    @property
    def points_lost(self) -> int:
        return self.best_points - self.choice.points


@dataclass(frozen=True)
class Review:
    """What went well (choices worth the most points available at their step, and safe) and
    what to do differently (choices that cost points against the best one, or were critical),
    in the order they were taken."""

    went_well: tuple[Reviewed, ...]
    to_change: tuple[Reviewed, ...]


def review(s: Scenario, state: AttemptState) -> Review:
    well, change = [], []
    for made in state.path:
        step, choice = _taken(s, made)
        reviewed = Reviewed(step, choice, max(c.points for c in step.choices))
        if choice.critical or reviewed.points_lost > 0:
            change.append(reviewed)
        else:
            well.append(reviewed)
    return Review(tuple(well), tuple(change))
