"""The value objects and limits of the `pathways-scenario` format (versions 1 and 2).

A Scenario is a frozen value: a title, a pass mark, a start key and steps, each step either a
decision with choices or an ending with an outcome. Nothing here reads documents, checks graphs
or plays attempts; see `document`, `analysis` and `play`.

Every choice has an `id`, unique within its step, that stays the same when choices are
reordered, added or removed: attempts record it and analytics count by it. A Step gives the
choices that arrive without one an id by position (`c1`, `c2`, ...; see `fill_choice_ids`), so
that version 1 files and scenarios built in Python get ids too.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property

FORMAT_1 = "pathways-scenario/1"
FORMAT = "pathways-scenario/2"  # what `to_document` writes
FORMATS = (FORMAT_1, FORMAT)  # what `parse_document` reads
MAX_BYTES = 1_000_000
MAX_STEPS = 500
MAX_TITLE = 200  # characters; the stored scenario's title column is this long
MAX_WARNING = 500  # characters of a content warning (the stored column's length)
PATH_LIMIT = 10_000
POINTS_MIN = -10
POINTS_MAX = 10
OUTCOMES = ("pass", "fail", "neutral")
# Only "pass" passes. A "neutral" ending is one without harm but without the outcome the training
# is after: the officer is told "Not passed: try again".
PASSING_OUTCOMES = frozenset({"pass"})

# A step key, for `document` (reading one) and `analysis` (checking one).
# fullmatch, not `$`: `$` would also accept a trailing newline.
_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


# --- Value objects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One option at a decision.

    `id` is the choice's stable identity within its step ("" asks the Step for one by
    position). `pinned` keeps the choice after the shuffled ones, in authored order ("None of
    these"). `sets` names the flags that taking the choice sets, for conditional debriefs.
    """

    text: str
    next: str
    points: int = 0
    feedback: str = ""
    critical: bool = False
    id: str = ""
    pinned: bool = False
    sets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.sets, tuple):
            object.__setattr__(self, "sets", tuple(self.sets))


@dataclass(frozen=True)
class Debrief:
    """Part of an ending's debrief shown only when `flag` is set (or, with `unless`, is not)."""

    flag: str
    text: str
    unless: bool = False

    def holds(self, flags: Container[str]) -> bool:
        return (self.flag in flags) != self.unless


def fill_choice_ids(choices: Iterable[Choice]) -> tuple[Choice, ...]:
    """The choices, each without an id given one by its position from 1: "c1", "c2", ...

    An id another choice of the step already has is skipped ("c2-2", "c2-3", ...), so the ids
    stay unique. The rule is part of the format: a version 1 file gets these ids, and so do
    attempts recorded before choices had ids (migration scenarios.0003 applies the same rule).
    """
    listed = tuple(choices)
    taken = {choice.id for choice in listed if choice.id}
    if len(taken) == len(listed):
        return listed
    filled = []
    for position, choice in enumerate(listed, 1):
        if not choice.id:
            candidate, suffix = f"c{position}", 1
            while candidate in taken:
                suffix += 1
                candidate = f"c{position}-{suffix}"
            taken.add(candidate)
            choice = replace(choice, id=candidate)
        filled.append(choice)
    return tuple(filled)


@dataclass(frozen=True)
class Step:
    """A decision (has choices) or an ending (no choices, has an outcome).

    An ending's `debrief` is shown whatever route led there; each of its `debriefs` only when
    its condition holds for the flags set by the choices taken.
    """

    key: str
    text: str
    choices: tuple[Choice, ...] = ()
    outcome: str | None = None
    debrief: str = ""
    debriefs: tuple[Debrief, ...] = ()

    def __post_init__(self) -> None:
        # Keep the object hashable when a caller passes a list.
        object.__setattr__(self, "choices", fill_choice_ids(self.choices))
        if not isinstance(self.debriefs, tuple):
            object.__setattr__(self, "debriefs", tuple(self.debriefs))

    def choice(self, choice_id: str) -> Choice:
        """The choice with this id (the first one if ids are duplicated); KeyError if none."""
        for choice in self.choices:
            if choice.id == choice_id:
                return choice
        raise KeyError(choice_id)

    @property
    def is_ending(self) -> bool:
        return not self.choices


@dataclass(frozen=True)
class Scenario:
    title: str
    summary: str
    pass_mark: int
    start: str
    steps: tuple[Step, ...]
    # What the scenario contains that may distress (an overdose, a death), shown before it
    # starts; empty when nothing does.
    content_warning: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.steps, tuple):
            object.__setattr__(self, "steps", tuple(self.steps))

    @cached_property
    def _index(self) -> Mapping[str, Step]:
        # cached_property writes to the instance __dict__ directly, which a frozen dataclass
        # allows; the cache is not a field, so equality and hashing ignore it.
        index: dict[str, Step] = {}
        for step in self.steps:
            index.setdefault(step.key, step)
        return index

    def step(self, key: str) -> Step:
        """The step with this key (the first one if keys are duplicated); KeyError if none."""
        return self._index[key]

    def has_step(self, key: str) -> bool:
        return key in self._index


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario; `step` is None for the document as a whole."""

    step: str | None
    message: str

    def __str__(self) -> str:
        return self.message if self.step is None else f'Step "{self.step}": {self.message}'


class ScenarioInvalid(Exception):
    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        head = f"The scenario has {count} problem{'s' if count != 1 else ''}"
        super().__init__(head + ": " + "; ".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Report:
    """What an author sees about a scenario. Scores are None when they cannot be computed.

    `min_score` is the worst score over paths from the start to an ending; it is None when a
    loop that loses points can be repeated without limit (or the graph is too broken to tell).
    `path_count` counts distinct paths from the start to an ending, up to PATH_LIMIT; when
    there are more (a loop on the way to an ending means infinitely many), it is PATH_LIMIT
    and `path_count_capped` is True.
    """

    problems: tuple[Problem, ...]
    max_score: int | None
    min_score: int | None
    pass_threshold: int | None
    path_count: int
    path_count_capped: bool
    max_decisions: int | None = None
    warnings: tuple[Problem, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems
