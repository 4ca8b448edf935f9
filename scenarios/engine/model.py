"""The value objects and limits of the `pathways-scenario/1` format.

A Scenario is a frozen value: a title, a pass mark, a start key and steps, each step either a
decision with choices or an ending with an outcome. Nothing here reads documents, checks graphs
or plays attempts; see `document`, `analysis` and `play`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

FORMAT = "pathways-scenario/1"
MAX_BYTES = 1_000_000
MAX_STEPS = 500
MAX_TITLE = 200  # characters; the stored scenario's title column is this long
PATH_LIMIT = 10_000
POINTS_MIN = -10
POINTS_MAX = 10
OUTCOMES = ("pass", "fail", "neutral")
PASSING_OUTCOMES = frozenset({"pass", "neutral"})

# A step key, for `document` (reading one) and `analysis` (checking one).
# fullmatch, not `$`: `$` would also accept a trailing newline.
_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


# --- Value objects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    text: str
    next: str
    points: int = 0
    feedback: str = ""
    critical: bool = False


@dataclass(frozen=True)
class Step:
    """A decision (has choices) or an ending (no choices, has an outcome)."""

    key: str
    text: str
    choices: tuple[Choice, ...] = ()
    outcome: str | None = None
    debrief: str = ""

    def __post_init__(self) -> None:
        # Keep the object hashable when a caller passes a list.
        if not isinstance(self.choices, tuple):
            object.__setattr__(self, "choices", tuple(self.choices))

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

    @property
    def valid(self) -> bool:
        return not self.problems
