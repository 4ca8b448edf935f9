"""Reading and writing the `pathways-scenario` document (see docs/scenario-format.md).

`parse_document` checks a decoded document's shape and builds a Scenario; `parse_json` also
decodes the file and validates the graph (`analysis.validate`), for import; `to_document` is the
inverse of `parse_document`. Both versions are read: version 2 adds choice `id`, `pinned` and
`sets`, and ending `debriefs`, keys that a version 1 file may not use. `to_document` writes
version 2.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from scenarios.engine.analysis import validate
from scenarios.engine.model import (
    _KEY,
    FORMAT,
    FORMAT_1,
    FORMATS,
    MAX_BYTES,
    MAX_STEPS,
    MAX_TITLE,
    MAX_WARNING,
    OUTCOMES,
    POINTS_MAX,
    POINTS_MIN,
    Choice,
    Debrief,
    Problem,
    Scenario,
    ScenarioInvalid,
    Step,
)

# What a browser would take for the start of a tag, comment or doctype. No space is allowed
# after "<": browsers read "a < b" as text, and so should we.
_MARKUP = re.compile(r"<[A-Za-z/!?]")
# C0 controls other than tab, newline and carriage return; PostgreSQL also refuses NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_TOP_KEYS_1 = ("format", "title", "summary", "pass_mark", "start", "steps")
_TOP_KEYS = (*_TOP_KEYS_1, "content_warning")
_STEP_KEYS_1 = ("key", "text", "choices", "outcome", "debrief")
_CHOICE_KEYS_1 = ("text", "next", "points", "feedback", "critical")
_STEP_KEYS = (*_STEP_KEYS_1, "debriefs")
_CHOICE_KEYS = ("id", *_CHOICE_KEYS_1, "pinned", "sets")
_DEBRIEF_KEYS = ("if", "unless", "text")
_EITHER_FORMAT = " or ".join(f'"{name}"' for name in FORMATS)


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
        **({"content_warning": s.content_warning} if s.content_warning else {}),
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
        if step.debriefs:
            doc["debriefs"] = [
                {"unless" if debrief.unless else "if": debrief.flag, "text": debrief.text}
                for debrief in step.debriefs
            ]
    return doc


def _choice_document(choice: Choice) -> dict[str, object]:
    doc: dict[str, object] = {
        "id": choice.id,
        "text": choice.text,
        "next": choice.next,
        "points": choice.points,
    }
    if choice.feedback:
        doc["feedback"] = choice.feedback
    if choice.critical:
        doc["critical"] = True
    if choice.pinned:
        doc["pinned"] = True
    if choice.sets:
        doc["sets"] = list(choice.sets)
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
    version: int = 2  # which keys a step and a choice may have

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
        self,
        obj: dict[object, object],
        name: str,
        at: _At,
        *,
        required: bool,
        blank_ok: bool,
        max_length: int | None = None,
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
        if max_length is not None and len(value) > max_length:
            self.error(
                at,
                f'"{name}" is {len(value)} characters long; the limit is {max_length}.',
                graph=False,
            )
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

    def name(self, value: object, label: str, at: _At) -> str | None:
        """A choice id or flag name: the syntax of a step key. None (and a problem) if not."""
        if isinstance(value, str) and _KEY.fullmatch(value):
            return value
        self.error(
            at,
            f'{label} must be 1 to 64 letters, digits, "-" or "_", not {_show(value)}.',
            graph=False,
        )
        return None

    def flag(self, obj: dict[object, object], name: str, at: _At) -> bool:
        """Read an optional true/false; a wrong value is a problem and counts as false."""
        value = obj.get(name, False)
        if not isinstance(value, bool):
            self.error(at, f'"{name}" must be true or false, not {_show(value)}.', graph=False)
            return False
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
    # A version 1 file may not use the keys version 2 added; without a known format, version 2's
    # keys are allowed, so that only the format itself is reported.
    reader = _Reader(version=1 if data.get("format") == FORMAT_1 else 2)
    doc = _At(None)
    reader.unknown_keys(data, _TOP_KEYS if reader.version == 2 else _TOP_KEYS_1, doc)
    if "format" not in data:
        reader.error(doc, f'"format" is missing; it must be {_EITHER_FORMAT}.', graph=False)
    elif data["format"] not in FORMATS:
        reader.error(
            doc, f'"format" must be {_EITHER_FORMAT}, not {_show(data["format"])}.', graph=False
        )
    title = reader.text(data, "title", doc, required=True, blank_ok=False, max_length=MAX_TITLE)
    summary = reader.text(data, "summary", doc, required=False, blank_ok=True)
    content_warning = reader.text(
        data, "content_warning", doc, required=False, blank_ok=True, max_length=MAX_WARNING
    )
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
        title=title,
        summary=summary,
        pass_mark=pass_mark,
        start=start_key,
        steps=tuple(steps),
        content_warning=content_warning,
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
    reader.unknown_keys(raw, _STEP_KEYS if reader.version == 2 else _STEP_KEYS_1, at)
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
        if "debriefs" in raw and reader.version == 2:
            reader.error(at, '"debriefs" is only for endings, not steps with choices.', graph=False)
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
    debriefs: tuple[Debrief, ...] = ()
    if "debriefs" in raw and reader.version == 2:
        debriefs = _read_debriefs(reader, raw["debriefs"], at)
    return Step(key=key or "", text=text, outcome=outcome, debrief=debrief, debriefs=debriefs)


def _read_debriefs(reader: _Reader, raw: object, at: _At) -> tuple[Debrief, ...]:
    if not isinstance(raw, list):
        reader.error(
            at,
            '"debriefs" must be a list of {"if": flag, "text": ...} or '
            f'{{"unless": flag, "text": ...}} objects, not {_show(raw)}.',
            graph=False,
        )
        return ()
    debriefs = []
    for number, item in enumerate(raw, 1):
        where = at.within(f"Debrief {number}: ")
        if not isinstance(item, dict):
            reader.error(where, f"each debrief must be an object, not {_show(item)}.", graph=False)
            continue
        reader.unknown_keys(item, _DEBRIEF_KEYS, where)
        text = reader.text(item, "text", where, required=True, blank_ok=False)
        if "if" in item and "unless" in item:
            reader.error(where, 'a debrief has "if" or "unless", not both.', graph=False)
            continue
        if "if" not in item and "unless" not in item:
            reader.error(where, 'a debrief needs "if" or "unless" and a flag name.', graph=False)
            continue
        condition = "unless" if "unless" in item else "if"
        flag = reader.name(item[condition], f'"{condition}"', where)
        if flag is not None:
            debriefs.append(Debrief(flag=flag, text=text, unless=condition == "unless"))
    return tuple(debriefs)


def _read_choice(reader: _Reader, raw: object, at: _At) -> Choice:
    if not isinstance(raw, dict):
        reader.error(at, f"each choice must be an object, not {_show(raw)}.", graph=True)
        return Choice(text="", next="")
    reader.unknown_keys(raw, _CHOICE_KEYS if reader.version == 2 else _CHOICE_KEYS_1, at)
    choice_id = ""
    if "id" in raw and reader.version == 2:
        choice_id = reader.name(raw["id"], '"id"', at) or ""
    text = reader.text(raw, "text", at, required=True, blank_ok=False)
    next_key = reader.key(raw, "next", at)
    points = reader.integer(raw, "points", at, POINTS_MIN, POINTS_MAX, default=0)
    feedback = reader.text(raw, "feedback", at, required=False, blank_ok=True)
    critical = raw.get("critical", False)
    if not isinstance(critical, bool):
        reader.error(at, f'"critical" must be true or false, not {_show(critical)}.', graph=True)
        critical = False
    pinned = reader.flag(raw, "pinned", at) if reader.version == 2 else False
    sets: list[str] = []
    if "sets" in raw and reader.version == 2:
        raw_sets = raw["sets"]
        if not isinstance(raw_sets, list):
            reader.error(
                at, f'"sets" must be a list of flag names, not {_show(raw_sets)}.', graph=False
            )
        else:
            for item in raw_sets:
                flag = reader.name(item, 'each flag in "sets"', at)
                if flag is not None and flag not in sets:
                    sets.append(flag)
    return Choice(
        text=text,
        next=next_key or "",
        points=points,
        feedback=feedback,
        critical=critical,
        id=choice_id,
        pinned=pinned,
        sets=tuple(sets),
    )
