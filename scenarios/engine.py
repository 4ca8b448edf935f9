"""The scenario engine: parsing, validation, scoring and traversal of branching scenarios.

Plain Python with no Django import, so it can be tested and reasoned about on its own. It
implements the `pathways-scenario/1` interchange format (see scenario-format.md).

Scoring rules, fixed here once for the whole platform:

- The score of an attempt is the sum of the points of the choices taken.
- `max_score` is the best score over all paths from the start to an ending.
- `score_percent(score, max_score)` is `floor(100 * score / max_score)` clamped to 0-100 when
  `max_score > 0`; when `max_score <= 0` it is 100 if `score >= max_score`, else 0.
- `threshold_for(pass_mark, max_score)` is the fewest points that reach the pass mark:
  `ceil(pass_mark * max_score / 100)` in exact integer arithmetic when `max_score > 0`;
  `max_score` itself when `max_score <= 0` (a percentage of it means nothing, so the attempt
  must do as well as possible); None when `pass_mark` is 0 (any score will do, even one below
  zero, which shows as 0%).
- The two agree: `score >= threshold` (or threshold None) exactly when
  `score_percent(score, max_score) >= pass_mark`, so what a learner sees matches the verdict.
- An attempt passes when it ends on a `pass` or `neutral` ending, reaches the threshold, and
  took no critical choice.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

__all__ = [
    "FORMAT",
    "MAX_BYTES",
    "MAX_STEPS",
    "OUTCOMES",
    "PASSING_OUTCOMES",
    "PATH_LIMIT",
    "POINTS_MAX",
    "POINTS_MIN",
    "AttemptFinished",
    "AttemptState",
    "BadChoice",
    "BrokenScenario",
    "Choice",
    "EngineError",
    "NotFinished",
    "Problem",
    "Report",
    "Result",
    "Scenario",
    "ScenarioInvalid",
    "Step",
    "TakenChoice",
    "WrongStep",
    "analyse",
    "choose",
    "max_score",
    "parse_document",
    "parse_json",
    "pass_threshold",
    "passes",
    "replay",
    "result",
    "score_percent",
    "start",
    "threshold_for",
    "to_document",
    "validate",
]

FORMAT = "pathways-scenario/1"
MAX_BYTES = 1_000_000
MAX_STEPS = 500
PATH_LIMIT = 10_000
POINTS_MIN = -10
POINTS_MAX = 10
OUTCOMES = ("pass", "fail", "neutral")
PASSING_OUTCOMES = frozenset({"pass", "neutral"})

# fullmatch, not `$`: `$` would also accept a trailing newline.
_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
# What a browser would take for the start of a tag, comment or doctype. No space is allowed
# after "<": browsers read "a < b" as text, and so should we.
_MARKUP = re.compile(r"<[A-Za-z/!?]")
# C0 controls other than tab, newline and carriage return; PostgreSQL also refuses NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_TOP_KEYS = ("format", "title", "summary", "pass_mark", "start", "steps")
_STEP_KEYS = ("key", "text", "choices", "outcome", "debrief")
_CHOICE_KEYS = ("text", "next", "points", "feedback", "critical")


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

    @cached_property
    def _facts(self) -> _Facts:
        return _examine(self)

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


# --- Parsing ------------------------------------------------------------------------------------


def parse_document(data: object) -> Scenario:
    """Turn a decoded JSON document into a Scenario, or raise ScenarioInvalid listing every
    problem with the document's shape. The graph is not checked here: see `validate`."""
    scenario, problems = _read_document(data)
    if problems or scenario is None:
        raise ScenarioInvalid(problems)
    return scenario


def parse_json(raw: bytes | str) -> Scenario:
    """Import: decode, parse and validate, raising ScenarioInvalid with all problems found."""
    if isinstance(raw, str):
        try:
            size = len(raw.encode("utf-8"))
        except UnicodeEncodeError:
            raise ScenarioInvalid([Problem(None, "The file is not valid UTF-8 text.")]) from None
        if size > MAX_BYTES:
            raise ScenarioInvalid([_too_big(size)])
        text = raw
    elif isinstance(raw, bytes | bytearray):
        if len(raw) > MAX_BYTES:
            raise ScenarioInvalid([_too_big(len(raw))])
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as error:
            message = f"The file is not valid UTF-8 text (bad byte at position {error.start})."
            raise ScenarioInvalid([Problem(None, message)]) from None
    else:
        raise TypeError(f"parse_json() takes bytes or str, not {type(raw).__name__}")

    text = text.removeprefix("\ufeff")  # Some editors on Windows add a byte order mark.
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        obj: dict[str, object] = {}
        for key, value in items:
            if key in obj:
                duplicates.append(key)
            obj[key] = value
        return obj

    def constant(name: str) -> object:
        raise ValueError(f"{name} is not allowed")

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as error:
        message = (
            f"The file is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
        )
        raise ScenarioInvalid([Problem(None, message)]) from None
    except RecursionError:
        raise ScenarioInvalid([Problem(None, "The file is nested too deeply.")]) from None
    except ValueError as error:
        message = f"The file is not valid JSON: {error}."
        raise ScenarioInvalid([Problem(None, message)]) from None

    problems = [
        Problem(None, f'The key "{key}" appears twice in the same object.')
        for key in dict.fromkeys(duplicates)
    ]
    scenario, shape_problems = _read_document(data)
    problems += shape_problems
    if scenario is not None:
        problems += validate(scenario)
    if problems or scenario is None:
        raise ScenarioInvalid(problems)
    return scenario


def to_document(s: Scenario) -> dict[str, object]:
    """The inverse of `parse_document`, with keys in the order the format shows."""
    return {
        "format": FORMAT,
        "title": s.title,
        "summary": s.summary,
        "pass_mark": s.pass_mark,
        "start": s.start,
        "steps": [_step_document(step) for step in s.steps],
    }


def _step_document(step: Step) -> dict[str, object]:
    doc: dict[str, object] = {"key": step.key, "text": step.text}
    if step.choices:
        doc["choices"] = [_choice_document(choice) for choice in step.choices]
    else:
        doc["outcome"] = step.outcome
        if step.debrief:
            doc["debrief"] = step.debrief
    return doc


def _choice_document(choice: Choice) -> dict[str, object]:
    doc: dict[str, object] = {"text": choice.text, "next": choice.next, "points": choice.points}
    if choice.feedback:
        doc["feedback"] = choice.feedback
    if choice.critical:
        doc["critical"] = True
    return doc


def _too_big(size: int) -> Problem:
    return Problem(None, f"The file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes (1 MB).")


def _show(value: object) -> str:
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


@dataclass(frozen=True)
class _At:
    """Where a problem is: the step key when known, and a prefix such as "Choice 2: "."""

    step: str | None
    prefix: str = ""

    def within(self, prefix: str) -> _At:
        return _At(self.step, self.prefix + prefix)


@dataclass
class _Reader:
    """Collects problems while reading. `graph_ok` stays True while every problem so far
    leaves the graph intact (bad text, unknown keys), so that the graph can still be
    validated and all problems reported together."""

    problems: list[Problem] = field(default_factory=list)
    graph_ok: bool = True

    def error(self, at: _At, message: str, *, graph: bool) -> None:
        self.problems.append(Problem(at.step, at.prefix + message))
        if graph:
            self.graph_ok = False

    def unknown_keys(self, obj: dict[object, object], allowed: tuple[str, ...], at: _At) -> None:
        for key in obj:
            if key not in allowed:
                expected = ", ".join(f'"{name}"' for name in allowed)
                self.error(at, f"Unknown key {_show(key)} (expected {expected}).", graph=False)

    def text(
        self, obj: dict[object, object], name: str, at: _At, *, required: bool, blank_ok: bool
    ) -> str:
        if name not in obj:
            if required:
                self.error(at, f'"{name}" is missing.', graph=False)
            return ""
        value = obj[name]
        if not isinstance(value, str):
            self.error(at, f'"{name}" must be text, not {_show(value)}.', graph=False)
            return ""
        if not blank_ok and not value.strip():
            self.error(at, f'"{name}" must not be empty.', graph=False)
        markup = _MARKUP.search(value)
        if markup:
            self.error(
                at,
                f'"{name}" must be plain text, but contains HTML-like markup ("{markup.group()}").',
                graph=False,
            )
        if _CONTROL.search(value):
            self.error(at, f'"{name}" contains control characters.', graph=False)
        return value

    def key(self, obj: dict[object, object], name: str, at: _At) -> str | None:
        if name not in obj:
            self.error(at, f'"{name}" is missing.', graph=True)
            return None
        value = obj[name]
        if not isinstance(value, str) or not _KEY.fullmatch(value):
            self.error(
                at,
                f'"{name}" must be a step key of 1 to 64 letters, digits, "-" or "_", '
                f"not {_show(value)}.",
                graph=True,
            )
            return None
        return value

    def integer(
        self, obj: dict[object, object], name: str, at: _At, low: int, high: int, default: int
    ) -> int:
        """Read an optional integer in low..high; `default` stands in when absent or wrong."""
        if name not in obj:
            return default
        value = obj[name]
        # bool is a subclass of int in Python, but `true` is not a number in the format.
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.error(
                at,
                f'"{name}" must be a whole number from {low} to {high}, not {_show(value)}.',
                graph=True,
            )
            return default
        return value


def _read_document(data: object) -> tuple[Scenario | None, list[Problem]]:
    """Read what can be read. The Scenario is None when problems leave the graph unusable."""
    if not isinstance(data, dict):
        return None, [Problem(None, f"The document must be a JSON object, not {_show(data)}.")]
    reader = _Reader()
    doc = _At(None)
    reader.unknown_keys(data, _TOP_KEYS, doc)
    if "format" not in data:
        reader.error(doc, f'"format" is missing; it must be "{FORMAT}".', graph=False)
    elif data["format"] != FORMAT:
        reader.error(doc, f'"format" must be "{FORMAT}", not {_show(data["format"])}.', graph=False)
    title = reader.text(data, "title", doc, required=True, blank_ok=False)
    summary = reader.text(data, "summary", doc, required=False, blank_ok=True)
    if "pass_mark" not in data:
        reader.error(doc, '"pass_mark" is missing.', graph=True)
    pass_mark = reader.integer(data, "pass_mark", doc, 0, 100, default=0)
    start_key = reader.key(data, "start", doc)

    steps: list[Step] = []
    raw_steps = data.get("steps")
    if "steps" not in data:
        reader.error(doc, '"steps" is missing.', graph=True)
    elif not isinstance(raw_steps, list) or not raw_steps:
        reader.error(doc, '"steps" must be a non-empty list of steps.', graph=True)
    else:
        if len(raw_steps) > MAX_STEPS:
            reader.error(
                doc,
                f"The scenario has {len(raw_steps)} steps; the limit is {MAX_STEPS}.",
                graph=True,
            )
        steps = [_read_step(reader, raw, number) for number, raw in enumerate(raw_steps, 1)]

    if not reader.graph_ok or start_key is None:
        return None, reader.problems
    scenario = Scenario(
        title=title, summary=summary, pass_mark=pass_mark, start=start_key, steps=tuple(steps)
    )
    return scenario, reader.problems


def _read_step(reader: _Reader, raw: object, number: int) -> Step:
    at = _At(None, f"Step {number}: ")
    if not isinstance(raw, dict):
        reader.error(at, f"each step must be an object, not {_show(raw)}.", graph=True)
        return Step(key="", text="")
    key = reader.key(raw, "key", at)
    if key is not None:
        at = _At(key)
    reader.unknown_keys(raw, _STEP_KEYS, at)
    text = reader.text(raw, "text", at, required=True, blank_ok=False)

    if "choices" in raw:
        raw_choices = raw["choices"]
        choices: list[Choice] = []
        if not isinstance(raw_choices, list) or not raw_choices:
            reader.error(
                at,
                '"choices" must be a non-empty list; leave it out to make the step an ending.',
                graph=True,
            )
        else:
            choices = [
                _read_choice(reader, item, at.within(f"Choice {number}: "))
                for number, item in enumerate(raw_choices, 1)
            ]
        if "outcome" in raw:
            reader.error(at, '"outcome" is only for endings, not steps with choices.', graph=True)
        if "debrief" in raw:
            reader.error(at, '"debrief" is only for endings, not steps with choices.', graph=False)
        return Step(key=key or "", text=text, choices=tuple(choices))

    outcome: str | None = None
    if "outcome" not in raw:
        reader.error(
            at,
            'an ending (a step without "choices") needs an "outcome": "pass", "fail" or "neutral".',
            graph=True,
        )
    elif not isinstance(raw["outcome"], str) or raw["outcome"] not in OUTCOMES:
        reader.error(
            at,
            f'"outcome" must be "pass", "fail" or "neutral", not {_show(raw["outcome"])}.',
            graph=True,
        )
    else:
        outcome = raw["outcome"]
    debrief = reader.text(raw, "debrief", at, required=False, blank_ok=True)
    return Step(key=key or "", text=text, outcome=outcome, debrief=debrief)


def _read_choice(reader: _Reader, raw: object, at: _At) -> Choice:
    if not isinstance(raw, dict):
        reader.error(at, f"each choice must be an object, not {_show(raw)}.", graph=True)
        return Choice(text="", next="")
    reader.unknown_keys(raw, _CHOICE_KEYS, at)
    text = reader.text(raw, "text", at, required=True, blank_ok=False)
    next_key = reader.key(raw, "next", at)
    points = reader.integer(raw, "points", at, POINTS_MIN, POINTS_MAX, default=0)
    feedback = reader.text(raw, "feedback", at, required=False, blank_ok=True)
    critical = raw.get("critical", False)
    if not isinstance(critical, bool):
        reader.error(at, f'"critical" must be true or false, not {_show(critical)}.', graph=True)
        critical = False
    return Choice(
        text=text, next=next_key or "", points=points, feedback=feedback, critical=critical
    )


# --- Validation and analysis ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    problems: tuple[Problem, ...]
    max_score: int | None
    min_score: int | None
    pass_threshold: int | None
    path_count: int
    path_count_capped: bool


# An edge of the step graph: (from step, to step, points, critical).
_Edge = tuple[str, str, int, bool]


def validate(s: Scenario) -> list[Problem]:
    """Every problem with the scenario's structure and graph; empty when it is valid."""
    return list(s._facts.problems)


def analyse(s: Scenario) -> Report:
    facts = s._facts
    return Report(
        problems=facts.problems,
        max_score=facts.max_score,
        min_score=facts.min_score,
        pass_threshold=facts.pass_threshold,
        path_count=facts.path_count,
        path_count_capped=facts.path_count_capped,
    )


def max_score(s: Scenario) -> int:
    """The best score over all paths from the start to an ending."""
    value = s._facts.max_score
    if value is None:
        raise ScenarioInvalid(s._facts.problems or [Problem(None, "There is no maximum score.")])
    return value


def pass_threshold(s: Scenario) -> int | None:
    """The points an attempt needs to pass; None when any score will do (`threshold_for`)."""
    return threshold_for(s.pass_mark, max_score(s))


def threshold_for(pass_mark: int, max_score: int) -> int | None:
    """ceil(pass_mark% of max_score); max_score itself when it is 0 or less; None (any score)
    when the pass mark is 0."""
    if pass_mark <= 0:
        return None
    if max_score <= 0:
        return max_score
    return -(-(pass_mark * max_score) // 100)


def score_percent(score: int, max_score: int) -> int:
    """The score as a whole percentage of the maximum, rounded down, from 0 to 100."""
    if max_score <= 0:
        return 100 if score >= max_score else 0
    return max(0, min(100, (score * 100) // max_score))


def _examine(s: Scenario) -> _Facts:
    problems: list[Problem] = []

    index: dict[str, Step] = {}
    duplicated: dict[str, None] = {}
    for step in s.steps:
        if step.key in index:
            duplicated[step.key] = None
        else:
            index[step.key] = step
    for key in duplicated:
        problems.append(Problem(key, f'The key "{key}" is used by more than one step.'))

    if len(s.steps) > MAX_STEPS:
        problems.append(
            Problem(None, f"The scenario has {len(s.steps)} steps; the limit is {MAX_STEPS}.")
        )
    pass_mark_ok = (
        isinstance(s.pass_mark, int)
        and not isinstance(s.pass_mark, bool)
        and 0 <= s.pass_mark <= 100
    )
    if not pass_mark_ok:
        problems.append(Problem(None, f"The pass mark must be from 0 to 100, not {s.pass_mark!r}."))
    start_ok = s.start in index
    if not start_ok:
        problems.append(Problem(None, f'The start step "{s.start}" does not exist.'))

    edges: list[_Edge] = []
    for key, step in index.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            problems.append(Problem(key, 'The key must be 1 to 64 letters, digits, "-" or "_".'))
        if step.is_ending:
            if step.outcome not in OUTCOMES:
                problems.append(
                    Problem(key, 'This ending needs an outcome of "pass", "fail" or "neutral".')
                )
            continue
        if step.outcome is not None:
            problems.append(Problem(key, "Only endings have an outcome; this step has choices."))
        if step.debrief:
            problems.append(Problem(key, "Only endings have a debrief; this step has choices."))
        for number, choice in enumerate(step.choices, 1):
            points_ok = (
                isinstance(choice.points, int)
                and not isinstance(choice.points, bool)
                and POINTS_MIN <= choice.points <= POINTS_MAX
            )
            if not points_ok:
                problems.append(
                    Problem(
                        key,
                        f"Choice {number}: points must be from {POINTS_MIN} to {POINTS_MAX}, "
                        f"not {choice.points!r}.",
                    )
                )
            if choice.next in index:
                edges.append((key, choice.next, int(choice.points), bool(choice.critical)))
            else:
                problems.append(
                    Problem(key, f'Choice {number} leads to "{choice.next}", which is not a step.')
                )

    forward: dict[str, list[str]] = {key: [] for key in index}
    backward: dict[str, list[str]] = {key: [] for key in index}
    for source, target, _points, _critical in edges:
        forward[source].append(target)
        backward[target].append(source)

    reached = _reach([s.start], forward) if start_ok else {}
    if start_ok:
        for key in index:
            if key not in reached:
                problems.append(
                    Problem(key, f'This step cannot be reached from the start step "{s.start}".')
                )
    endings = [key for key, step in index.items() if step.is_ending]
    finishing = _reach(endings, backward)
    for key in index:
        if key not in finishing:
            problems.append(Problem(key, "No ending can be reached from this step."))

    components = _components(list(index), forward)
    cyclic = [c for c in components if len(c) > 1 or c[0] in forward[c[0]]]
    order = {key: position for position, key in enumerate(index)}
    unbounded: set[str] = set()  # steps on a loop that gains points
    for component in cyclic:
        members = set(component)
        inside = [(u, v, w) for u, v, w, _c in edges if u in members and v in members]
        loop = _gaining_loop(members, inside)
        if loop is None:
            continue
        unbounded |= members
        problems.append(_loop_problem(loop, order))

    # From here on, only what lies on some path from the start to an ending matters.
    useful = [key for key in index if key in reached and key in finishing]
    useful_set = set(useful)
    if not start_ok or s.start not in finishing:
        return _Facts(tuple(problems), None, None, None, 0, False)

    capped = any(component[0] in useful_set for component in cyclic)
    path_count = PATH_LIMIT if capped else _count_paths(s.start, components, index, edges)
    if path_count > PATH_LIMIT:
        path_count, capped = PATH_LIMIT, True

    # Sort edges in breadth-first order so that Bellman-Ford settles in few passes.
    rank = {key: position for position, key in enumerate(reached)}
    live = sorted(
        (e for e in edges if e[0] in useful_set and e[1] in useful_set), key=lambda e: rank[e[0]]
    )
    useful_endings = [key for key in useful if index[key].is_ending]

    if unbounded & useful_set:
        return _Facts(tuple(problems), None, None, None, path_count, capped)

    longest = _longest(s.start, [(u, v, w) for u, v, w, _c in live], len(useful))
    assert longest is not None  # no gaining loop among the useful steps
    best = max(longest[key] for key in useful_endings)
    shortest = _longest(s.start, [(u, v, -w) for u, v, w, _c in live], len(useful))
    worst = None if shortest is None else -max(shortest[key] for key in useful_endings)

    threshold = threshold_for(s.pass_mark, best) if pass_mark_ok else None
    if pass_mark_ok:
        problem = _pass_problem(s, index, live, len(useful), best, threshold)
        if problem is not None:
            problems.append(problem)
    return _Facts(tuple(problems), best, worst, threshold, path_count, capped)


def _pass_problem(
    s: Scenario,
    index: Mapping[str, Step],
    live: list[_Edge],
    size: int,
    best: int,
    threshold: int | None,
) -> Problem | None:
    """The 'no path can pass' problem, if there is one."""
    if not any(step.outcome in PASSING_OUTCOMES for step in index.values() if step.is_ending):
        return Problem(None, 'No path can pass: no ending has the outcome "pass" or "neutral".')
    safe = [(u, v, w) for u, v, w, critical in live if not critical]
    scores = _longest(s.start, safe, size)
    assert scores is not None  # a subgraph of a graph without gaining loops
    passing = [
        scores[key]
        for key in scores
        if index[key].is_ending and index[key].outcome in PASSING_OUTCOMES
    ]
    if not passing:
        return Problem(
            None,
            "No path can pass: every route to a pass or neutral ending takes a critical choice.",
        )
    if threshold is not None and max(passing) < threshold:
        return Problem(
            None,
            f"No path can pass: the best score on a route to a pass or neutral ending without "
            f"a critical choice is {max(passing)}, but the pass mark needs {threshold} "
            f"({s.pass_mark}% of the maximum score, {best}).",
        )
    return None


def _reach(sources: Iterable[str], neighbours: Mapping[str, list[str]]) -> dict[str, None]:
    """Steps reachable from `sources`, in breadth-first order (a dict used as an ordered set)."""
    seen: dict[str, None] = dict.fromkeys(sources)
    queue = deque(seen)
    while queue:
        for target in neighbours[queue.popleft()]:
            if target not in seen:
                seen[target] = None
                queue.append(target)
    return seen


def _components(nodes: list[str], forward: Mapping[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative), in reverse topological order:
    every component comes after all the components it leads to."""
    number: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in nodes:
        if root in number:
            continue
        number[root] = low[root] = len(number)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(forward[root]))]
        while work:
            node, targets = work[-1]
            descended = False
            for target in targets:
                if target not in number:
                    number[target] = low[target] = len(number)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(forward[target])))
                    descended = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], number[target])
            if descended:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == number[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)
    return found


def _longest(source: str, edges: list[tuple[str, str, int]], size: int) -> dict[str, int] | None:
    """Best score from `source` to each step it reaches (Bellman-Ford for longest paths);
    None if a loop that gains points can be reached. `size` bounds the number of steps."""
    best = {source: 0}
    for _ in range(max(size, 1)):
        changed = False
        for u, v, w in edges:
            if u in best and (v not in best or best[u] + w > best[v]):
                best[v] = best[u] + w
                changed = True
        if not changed:
            return best
    return None


def _gaining_loop(members: set[str], edges: list[tuple[str, str, int]]) -> list[str] | None:
    """A loop whose points add up to more than 0 inside one component, in order, or None."""
    best = dict.fromkeys(members, 0)
    before: dict[str, str] = {}
    last: str | None = None
    for _ in range(len(members)):
        last = None
        for u, v, w in edges:
            if best[u] + w > best[v]:
                best[v] = best[u] + w
                before[v] = u
                last = v
        if last is None:
            return None
    # Still improving after |members| passes: walking back |members| times from the last step
    # improved lands on a loop of the predecessor graph, and such a loop gains points.
    node = last
    assert node is not None
    for _ in range(len(members)):
        node = before.get(node, node)
    loop = [node]
    previous = before.get(node, node)
    while previous != node and len(loop) <= len(members):
        loop.append(previous)
        previous = before.get(previous, node)
    loop.reverse()
    return loop


def _loop_problem(loop: list[str], order: Mapping[str, int]) -> Problem:
    first = min(range(len(loop)), key=lambda i: order[loop[i]])
    loop = loop[first:] + loop[:first]
    shown = loop if len(loop) <= 8 else [*loop[:7], "..."]
    route = " → ".join(f'"{key}"' if key != "..." else key for key in shown)
    return Problem(
        loop[0],
        f'This step is on a loop that gains points ({route} → "{loop[0]}"); '
        f"a loop's points must add up to 0 or less.",
    )


def _count_paths(
    start_key: str,
    components: list[list[str]],
    index: Mapping[str, Step],
    edges: list[_Edge],
) -> int:
    """Paths from the start to an ending, counted up to PATH_LIMIT + 1, when none of the steps
    between them is on a loop. Components arrive with every successor before its predecessor."""
    targets: dict[str, list[str]] = {key: [] for key in index}
    for source, target, _points, _critical in edges:
        targets[source].append(target)  # one entry per choice: two choices are two paths
    ways: dict[str, int] = {}
    for component in components:
        for key in component:
            if index[key].is_ending:
                ways[key] = 1
            else:
                ways[key] = min(PATH_LIMIT + 1, sum(ways.get(t, 0) for t in targets[key]))
    return ways.get(start_key, 0)


# --- Traversal ----------------------------------------------------------------------------------


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
