"""Properties of the scenario document reader: whatever it is given, it either builds a scenario
or raises ScenarioInvalid (never anything else), and what it accepts round-trips."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios import engine
from tests.scenarios.conftest import DOC

EXAMPLES = settings(max_examples=200, deadline=None)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)

# Documents near the format (mostly well-formed parts, now and then anything), which arbitrary
# JSON values almost never are; `coherent_documents` below are mostly accepted.
keys = st.sampled_from(["arrive", "call", "good-end", "bad-end", "x"]) | st.text(max_size=6)
texts = st.sampled_from(["", "Stay with him.", "a < b", "<b>bold</b>"]) | st.text(max_size=20)
points = st.integers(min_value=-12, max_value=12)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(strategy, strategy, strategy, json_values)


choices = st.fixed_dictionaries(
    {"text": maybe(texts), "next": maybe(keys), "points": maybe(points)},
    optional={"feedback": maybe(texts), "critical": maybe(st.booleans())},
)
steps = st.fixed_dictionaries(
    {"key": maybe(keys), "text": maybe(texts)},
    optional={
        "choices": maybe(st.lists(choices, max_size=3)),
        "outcome": maybe(st.sampled_from(["pass", "fail", "neutral", "win"])),
        "debrief": maybe(texts),
    },
)
near_documents = st.fixed_dictionaries(
    {
        "format": maybe(st.just(engine.FORMAT)),
        "title": maybe(texts),
        "start": maybe(keys),
        "steps": maybe(st.lists(steps, max_size=5)),
    },
    optional={"summary": maybe(texts), "pass_mark": maybe(st.integers(-5, 105))},
)

plain = st.text(alphabet="abcXYZ é.,'&<>-\n", max_size=30)
step_keys = st.from_regex(r"[A-Za-z0-9_-]{1,10}", fullmatch=True)


@st.composite
def coherent_documents(draw: st.DrawFn) -> dict:
    """Well-formed documents (the graph may still be wrong): most of these are accepted."""
    names = draw(st.lists(step_keys, min_size=1, max_size=4, unique=True))
    body = []
    for name in names:
        step: dict = {"key": name, "text": draw(plain.filter(str.strip))}
        if draw(st.booleans()):
            step["outcome"] = draw(st.sampled_from(["pass", "fail", "neutral"]))
            step["debrief"] = draw(plain)
        else:
            step["choices"] = [
                {
                    "text": draw(plain.filter(str.strip)),
                    "next": draw(st.sampled_from(names)),
                    "points": draw(st.integers(engine.POINTS_MIN, engine.POINTS_MAX)),
                    "feedback": draw(plain),
                    "critical": draw(st.booleans()),
                }
                for _ in range(draw(st.integers(1, 3)))
            ]
        body.append(step)
    return {
        "format": engine.FORMAT,
        "title": draw(plain.filter(str.strip)),
        "summary": draw(plain),
        "pass_mark": draw(st.integers(0, 100)),
        "start": draw(st.sampled_from(names)),
        "steps": body,
    }


documents = coherent_documents() | near_documents


def check_round_trip(scenario: engine.Scenario) -> None:
    document = engine.to_document(scenario)
    assert engine.parse_document(document) == scenario
    assert engine.parse_document(json.loads(json.dumps(document))) == scenario


def read(parse, value: object) -> engine.Scenario | None:  # noqa: ANN001
    try:
        return parse(value)
    except engine.ScenarioInvalid as exc:
        assert exc.args  # the problems found, for the author
        return None


@EXAMPLES
@given(json_values | documents)
def test_parse_document_accepts_or_refuses_and_round_trips(value: object) -> None:
    scenario = read(engine.parse_document, value)
    if scenario is not None:
        check_round_trip(scenario)


@EXAMPLES
@given(documents)
def test_parse_json_of_a_near_document_accepts_or_refuses_and_round_trips(doc: dict) -> None:
    raw = json.dumps(doc)
    for value in (raw, raw.encode("utf-8")):
        scenario = read(engine.parse_json, value)
        if scenario is not None:
            check_round_trip(scenario)
            assert engine.parse_json(json.dumps(engine.to_document(scenario))) == scenario


@EXAMPLES
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_parse_json_of_any_bytes_accepts_or_refuses(raw: bytes) -> None:
    scenario = read(engine.parse_json, raw)
    if scenario is not None:
        check_round_trip(scenario)


@EXAMPLES
@given(st.text(st.characters(exclude_categories=()), max_size=200))  # lone surrogates too
def test_parse_json_of_any_text_accepts_or_refuses(raw: str) -> None:
    scenario = read(engine.parse_json, raw)
    if scenario is not None:
        check_round_trip(scenario)


def test_the_example_document_is_accepted_and_round_trips() -> None:
    """The generators above do reach accepted documents; this one always is."""
    check_round_trip(engine.parse_json(json.dumps(DOC)))
    check_round_trip(engine.parse_document(DOC))
