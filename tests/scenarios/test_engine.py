"""Tests for the scenario engine: plain functions, no database and no Django."""

from __future__ import annotations

import ast
import copy
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios import engine
from scenarios.engine import (
    MAX_BYTES,
    MAX_STEPS,
    PATH_LIMIT,
    AttemptState,
    Choice,
    Problem,
    Scenario,
    ScenarioInvalid,
    Step,
    analyse,
    choose,
    max_score,
    parse_document,
    parse_json,
    pass_threshold,
    passes,
    replay,
    result,
    score_percent,
    start,
    threshold_for,
    to_document,
    validate,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


# --- Fixtures and helpers -----------------------------------------------------------------------


def stairwell_document() -> dict:
    """The example from docs/scenario-format.md, completed into a valid graph.

    Paths (score): rouse, naloxone, stay -> good-outcome (7, pass);
    rouse, naloxone, leave -> handover (5, neutral: not passed); rouse, wait -> bad-outcome
    (0, fail);
    search (critical), call -> bad-outcome (0, fail). Maximum 7, threshold ceil(4.9) = 5.
    """
    return {
        "format": "pathways-scenario/1",
        "title": "Unresponsive man in a stairwell",
        "summary": "You are first on scene to a possible overdose.",
        "pass_mark": 70,
        "start": "arrive",
        "steps": [
            {
                "key": "arrive",
                "text": "You find a man slumped on a stairwell landing. His lips are blue.",
                "choices": [
                    {
                        "text": "Check it is safe, then try to rouse him by voice and touch",
                        "next": "unrousable",
                        "points": 2,
                        "feedback": "Safety first, then responsiveness.",
                    },
                    {
                        "text": "Search his pockets for drugs first",
                        "next": "delay",
                        "points": 0,
                        "critical": True,
                        "feedback": "Searching delays life-saving care.",
                    },
                ],
            },
            {
                "key": "unrousable",
                "text": "He does not respond. His breathing is slow and noisy.",
                "choices": [
                    {"text": "Call 999 and give naloxone", "next": "breathing", "points": 3},
                    {"text": "Wait to see if he comes round", "next": "bad-outcome", "points": -2},
                ],
            },
            {
                "key": "delay",
                "text": "You find nothing. He has stopped breathing.",
                "choices": [{"text": "Call 999", "next": "bad-outcome"}],
            },
            {
                "key": "breathing",
                "text": "He starts to breathe more deeply.\n\nThe ambulance is ten minutes away.",
                "choices": [
                    {
                        "text": "Stay with him in the recovery position",
                        "next": "good-outcome",
                        "points": 2,
                    },
                    {"text": "Leave him for the crew", "next": "handover", "points": 0},
                ],
            },
            {
                "key": "good-outcome",
                "text": "The ambulance crew takes over. He is breathing.",
                "outcome": "pass",
                "debrief": "You called 999 early, gave naloxone and stayed with him.",
            },
            {
                "key": "handover",
                "text": "He survives, but was alone when he came round.",
                "outcome": "neutral",
            },
            {"key": "bad-outcome", "text": "He dies on the landing.", "outcome": "fail"},
        ],
    }


@pytest.fixture
def doc() -> dict:
    return stairwell_document()


@pytest.fixture
def stairwell() -> Scenario:
    return parse_document(stairwell_document())


def ending(key: str, outcome: str = "pass", debrief: str = "") -> Step:
    return Step(key=key, text=f"End {key}.", outcome=outcome, debrief=debrief)


def decision(key: str, *choices: tuple[str, int] | tuple[str, int, bool]) -> Step:
    return Step(
        key=key,
        text=f"Step {key}.",
        choices=tuple(
            Choice(text=f"Go to {c[0]}", next=c[0], points=c[1], critical=bool(c[2:] and c[2]))
            for c in choices
        ),
    )


def scenario(*steps: Step, start_key: str = "a", pass_mark: int = 50) -> Scenario:
    return Scenario(title="T", summary="", pass_mark=pass_mark, start=start_key, steps=steps)


def parse_problems(data: object) -> list[Problem]:
    with pytest.raises(ScenarioInvalid) as caught:
        parse_document(data)
    return caught.value.problems


def json_problems(raw: bytes | str) -> list[Problem]:
    with pytest.raises(ScenarioInvalid) as caught:
        parse_json(raw)
    return caught.value.problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def chain_document(count: int) -> dict:
    """A valid straight line of `count` steps, the last one an ending."""
    steps: list[dict] = [
        {"key": f"s{i}", "text": "Go on.", "choices": [{"text": "Next", "next": f"s{i + 1}"}]}
        for i in range(count - 1)
    ]
    steps.append({"key": f"s{count - 1}", "text": "The end.", "outcome": "pass"})
    return {
        "format": "pathways-scenario/1",
        "title": "Chain",
        "pass_mark": 0,
        "start": "s0",
        "steps": steps,
    }


# --- Parsing: shape of the document -------------------------------------------------------------


def test_parse_example(stairwell: Scenario) -> None:
    assert stairwell.title == "Unresponsive man in a stairwell"
    assert stairwell.start == "arrive"
    assert stairwell.step("arrive").choices[1] == Choice(
        text="Search his pockets for drugs first",
        next="delay",
        points=0,
        feedback="Searching delays life-saving care.",
        critical=True,
        id="c2",  # a version 1 file: ids by position
    )
    assert stairwell.step("handover").outcome == "neutral"
    assert stairwell.step("delay").choices[0].points == 0  # default
    assert validate(stairwell) == []


def test_step_lookup_unknown_key_raises(stairwell: Scenario) -> None:
    with pytest.raises(KeyError):
        stairwell.step("nowhere")
    assert stairwell.has_step("arrive")
    assert not stairwell.has_step("nowhere")


def test_scenario_is_hashable_and_equal_by_value(stairwell: Scenario) -> None:
    validate(stairwell)  # fills the caches, which must not affect equality or hashing
    other = parse_document(stairwell_document())
    assert other == stairwell
    assert hash(other) == hash(stairwell)


@pytest.mark.parametrize("data", [[], "text", None, 3])
def test_document_must_be_an_object(data: object) -> None:
    problem = only(parse_problems(data))
    assert problem.step is None
    assert "must be a JSON object" in problem.message


def test_missing_format(doc: dict) -> None:
    del doc["format"]
    problem = only(parse_problems(doc))
    assert problem == Problem(
        None, '"format" is missing; it must be "pathways-scenario/1" or "pathways-scenario/2".'
    )


@pytest.mark.parametrize("value", ["pathways-scenario/3", "pathways-scenario", 1, None])
def test_wrong_format(doc: dict, value: object) -> None:
    doc["format"] = value
    problem = only(parse_problems(doc))
    assert problem.step is None
    assert problem.message.startswith(
        '"format" must be "pathways-scenario/1" or "pathways-scenario/2", not '
    )


def test_unknown_key_at_top_level(doc: dict) -> None:
    doc["titel"] = "typo"
    problem = only(parse_problems(doc))
    assert problem.step is None
    assert problem.message.startswith('Unknown key "titel"')


def test_unknown_key_in_step(doc: dict) -> None:
    doc["steps"][0]["hint"] = "psst"
    problem = only(parse_problems(doc))
    assert problem.step == "arrive"
    assert problem.message.startswith('Unknown key "hint"')


def test_unknown_key_in_choice(doc: dict) -> None:
    doc["steps"][1]["choices"][1]["score"] = 1
    problem = only(parse_problems(doc))
    assert problem.step == "unrousable"
    assert problem.message.startswith('Choice 2: Unknown key "score"')


@pytest.mark.parametrize("name", ["title", "pass_mark", "start", "steps"])
def test_missing_required_top_level_key(doc: dict, name: str) -> None:
    del doc[name]
    problem = only(parse_problems(doc))
    assert problem == Problem(None, f'"{name}" is missing.')


def test_summary_is_optional(doc: dict) -> None:
    del doc["summary"]
    assert parse_document(doc).summary == ""


def test_missing_step_key_names_the_position(doc: dict) -> None:
    del doc["steps"][2]["key"]
    problem = only(parse_problems(doc))
    assert problem == Problem(None, 'Step 3: "key" is missing.')


def test_missing_step_text(doc: dict) -> None:
    del doc["steps"][0]["text"]
    assert only(parse_problems(doc)) == Problem("arrive", '"text" is missing.')


@pytest.mark.parametrize("name", ["text", "next"])
def test_missing_choice_key(doc: dict, name: str) -> None:
    del doc["steps"][0]["choices"][0][name]
    assert only(parse_problems(doc)) == Problem("arrive", f'Choice 1: "{name}" is missing.')


def test_blank_text_is_rejected(doc: dict) -> None:
    doc["steps"][0]["text"] = "   "
    assert only(parse_problems(doc)) == Problem("arrive", '"text" must not be empty.')


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        ("title", 12, '"title" must be text, not 12.'),
        ("summary", ["a"], '"summary" must be text, not ["a"].'),
        ("feedback", None, 'Choice 1: "feedback" must be text, not null.'),
        ("critical", "yes", 'Choice 1: "critical" must be true or false, not "yes".'),
        ("critical", 1, 'Choice 1: "critical" must be true or false, not 1.'),
    ],
)
def test_wrong_types(doc: dict, where: str, value: object, expected: str) -> None:
    if where in ("title", "summary"):
        doc[where] = value
        step = None
    else:
        doc["steps"][0]["choices"][0][where] = value
        step = "arrive"
    assert only(parse_problems(doc)) == Problem(step, expected)


@pytest.mark.parametrize("value", [True, False, "2", 2.0, None])
def test_points_must_be_an_integer_not_a_bool(doc: dict, value: object) -> None:
    doc["steps"][0]["choices"][0]["points"] = value
    problem = only(parse_problems(doc))
    assert problem.step == "arrive"
    assert problem.message.startswith(
        'Choice 1: "points" must be a whole number from -10 to 10, not '
    )


@pytest.mark.parametrize(("value", "ok"), [(-11, False), (-10, True), (10, True), (11, False)])
def test_points_range(doc: dict, value: int, ok: bool) -> None:
    doc["steps"][1]["choices"][1]["points"] = value
    if ok:
        assert parse_document(doc).step("unrousable").choices[1].points == value
    else:
        problem = only(parse_problems(doc))
        assert problem == Problem(
            "unrousable",
            f'Choice 2: "points" must be a whole number from -10 to 10, not {value}.',
        )


@pytest.mark.parametrize(
    ("value", "ok"), [(-1, False), (0, True), (100, True), (101, False), (True, False)]
)
def test_pass_mark_range(doc: dict, value: object, ok: bool) -> None:
    doc["pass_mark"] = value
    if ok:
        assert parse_document(doc).pass_mark == value
    else:
        problem = only(parse_problems(doc))
        assert problem.step is None
        assert problem.message.startswith('"pass_mark" must be a whole number from 0 to 100')


@pytest.mark.parametrize("key", ["bad key", "x" * 65, "", "arrive\n", "café", 7, None, "a.b"])
def test_step_key_pattern(doc: dict, key: object) -> None:
    doc["steps"][6]["key"] = key
    problems = parse_problems(doc)
    assert len(problems) == 1
    assert problems[0].step is None
    assert problems[0].message.startswith('Step 7: "key" must be a step key of 1 to 64 letters')


def test_longest_allowed_key(doc: dict) -> None:
    long_key = "k" * 64
    doc["steps"][6]["key"] = long_key
    doc["steps"][1]["choices"][1]["next"] = long_key
    doc["steps"][2]["choices"][0]["next"] = long_key
    assert validate(parse_document(doc)) == []


def test_start_and_next_must_be_keys(doc: dict) -> None:
    doc["start"] = "no way"
    doc["steps"][0]["choices"][0]["next"] = ["x"]
    problems = parse_problems(doc)
    assert [p.step for p in problems] == [None, "arrive"]
    assert problems[0].message.startswith('"start" must be a step key')
    assert problems[1].message.startswith('Choice 1: "next" must be a step key')


def test_outcome_only_on_endings(doc: dict) -> None:
    doc["steps"][0]["outcome"] = "pass"
    assert only(parse_problems(doc)) == Problem(
        "arrive", '"outcome" is only for endings, not steps with choices.'
    )


def test_debrief_only_on_endings(doc: dict) -> None:
    doc["steps"][0]["debrief"] = "Well done."
    assert only(parse_problems(doc)) == Problem(
        "arrive", '"debrief" is only for endings, not steps with choices.'
    )


def test_outcome_required_on_endings(doc: dict) -> None:
    del doc["steps"][6]["outcome"]
    problem = only(parse_problems(doc))
    assert problem.step == "bad-outcome"
    assert 'needs an "outcome"' in problem.message


@pytest.mark.parametrize("value", ["win", "PASS", None, 1])
def test_outcome_must_be_known(doc: dict, value: object) -> None:
    doc["steps"][6]["outcome"] = value
    problem = only(parse_problems(doc))
    assert problem.step == "bad-outcome"
    assert problem.message.startswith('"outcome" must be "pass", "fail" or "neutral"')


@pytest.mark.parametrize("value", [[], {}, "a", None])
def test_choices_must_be_a_non_empty_list(doc: dict, value: object) -> None:
    doc["steps"][2]["choices"] = value
    problem = only(parse_problems(doc))
    assert problem.step == "delay"
    assert problem.message.startswith('"choices" must be a non-empty list')


def test_choice_must_be_an_object(doc: dict) -> None:
    doc["steps"][2]["choices"] = ["bad-outcome"]
    problem = only(parse_problems(doc))
    assert problem == Problem(
        "delay", 'Choice 1: each choice must be an object, not "bad-outcome".'
    )


def test_step_must_be_an_object(doc: dict) -> None:
    doc["steps"].append("extra")
    problem = only(parse_problems(doc))
    assert problem == Problem(None, 'Step 8: each step must be an object, not "extra".')


@pytest.mark.parametrize("value", [[], {}, "steps"])
def test_steps_must_be_a_non_empty_list(doc: dict, value: object) -> None:
    doc["steps"] = value
    assert only(parse_problems(doc)) == Problem(None, '"steps" must be a non-empty list of steps.')


@pytest.mark.parametrize(
    "markup", ["<b>bold</b>", "<script>", "</p>", "<!-- note -->", "<?php", "<img src=x>"]
)
@pytest.mark.parametrize("where", ["title", "summary", "step", "choice", "feedback", "debrief"])
def test_html_is_rejected_in_every_text_field(doc: dict, where: str, markup: str) -> None:
    text = f"Before {markup} after"
    target, name, step = {
        "title": (doc, "title", None),
        "summary": (doc, "summary", None),
        "step": (doc["steps"][0], "text", "arrive"),
        "choice": (doc["steps"][0]["choices"][0], "text", "arrive"),
        "feedback": (doc["steps"][0]["choices"][0], "feedback", "arrive"),
        "debrief": (doc["steps"][4], "debrief", "good-outcome"),
    }[where]
    target[name] = text
    problem = only(parse_problems(doc))
    assert problem.step == step
    assert f'"{name}" must be plain text, but contains HTML-like markup' in problem.message


@pytest.mark.parametrize(
    "text", ["If a < b then", "x<3", "5 <= 6", "He said <3 and ->", "< b>", "<<"]
)
def test_angle_brackets_that_are_not_markup_are_allowed(doc: dict, text: str) -> None:
    doc["steps"][0]["text"] = text
    assert parse_document(doc).step("arrive").text == text


def test_control_characters_are_rejected(doc: dict) -> None:
    doc["steps"][0]["text"] = "Nul\x00here"
    assert only(parse_problems(doc)) == Problem("arrive", '"text" contains control characters.')


def test_a_title_longer_than_the_stored_column_is_a_listed_problem(doc: dict) -> None:
    doc["title"] = "T" * engine.MAX_TITLE
    assert parse_document(doc).title == "T" * engine.MAX_TITLE
    doc["title"] = "T" * (engine.MAX_TITLE + 1)
    assert only(parse_problems(doc)) == Problem(
        None, f'"title" is {engine.MAX_TITLE + 1} characters long; the limit is {engine.MAX_TITLE}.'
    )


def test_paragraphs_and_tabs_are_plain_text(doc: dict) -> None:
    doc["steps"][0]["text"] = "One.\r\n\r\nTwo.\n\n\tThree."
    assert parse_document(doc).step("arrive").text == "One.\r\n\r\nTwo.\n\n\tThree."


def test_max_steps_allowed() -> None:
    scenario_ = parse_document(chain_document(MAX_STEPS))
    assert len(scenario_.steps) == MAX_STEPS
    assert validate(scenario_) == []


def test_too_many_steps() -> None:
    problem = only(parse_problems(chain_document(MAX_STEPS + 1)))
    assert problem == Problem(None, "The scenario has 501 steps; the limit is 500.")


def test_too_many_steps_in_validate() -> None:
    steps = [decision(f"s{i}", (f"s{i + 1}", 0)) for i in range(MAX_STEPS)]
    too_big = scenario(*steps, ending(f"s{MAX_STEPS}"), start_key="s0")
    assert Problem(None, "The scenario has 501 steps; the limit is 500.") in validate(too_big)


def test_all_shape_problems_are_reported_together(doc: dict) -> None:
    doc["format"] = "other"
    doc["extra"] = 1
    doc["steps"][0]["choices"][0]["points"] = True
    doc["steps"][1]["hint"] = ""
    doc["steps"][3]["choices"][1]["critical"] = "no"
    doc["steps"][4]["text"] = "<em>Done</em>"
    del doc["steps"][6]["outcome"]
    problems = parse_problems(doc)
    assert [p.step for p in problems] == [
        None,
        None,
        "arrive",
        "unrousable",
        "breathing",
        "good-outcome",
        "bad-outcome",
    ]


# --- parse_json ---------------------------------------------------------------------------------


def test_parse_json_accepts_bytes_and_str(doc: dict) -> None:
    raw = json.dumps(doc, ensure_ascii=False, indent=2)
    assert parse_json(raw) == parse_json(raw.encode("utf-8")) == parse_document(doc)


def test_parse_json_accepts_a_byte_order_mark(doc: dict) -> None:
    raw = "\ufeff" + json.dumps(doc)
    assert parse_json(raw.encode("utf-8")) == parse_document(doc)


def test_parse_json_too_big() -> None:
    problem = only(json_problems(b" " * (MAX_BYTES + 1)))
    assert problem == Problem(
        None, "The file is 1,000,001 bytes; the limit is 1,000,000 bytes (1 MB)."
    )


def test_parse_json_size_is_measured_in_utf8_bytes(doc: dict) -> None:
    doc["summary"] = ""
    base = len(json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    doc["summary"] = "é" * ((MAX_BYTES - base) // 2 + 1)  # two bytes each in UTF-8
    raw = json.dumps(doc, ensure_ascii=False)
    assert len(raw) < MAX_BYTES < len(raw.encode("utf-8"))
    problem = only(json_problems(raw))
    assert "the limit is 1,000,000 bytes" in problem.message


def test_parse_json_at_the_size_limit_is_fine(doc: dict) -> None:
    raw = json.dumps(doc)
    raw = raw + " " * (MAX_BYTES - len(raw.encode("utf-8")))
    assert len(raw.encode("utf-8")) == MAX_BYTES
    assert parse_json(raw) == parse_document(doc)


@pytest.mark.parametrize("raw", ["", "{", "{'format': 1}", "[1,]", "nope"])
def test_parse_json_not_json(raw: str) -> None:
    problem = only(json_problems(raw))
    assert problem.step is None
    assert problem.message.startswith("The file is not valid JSON: ")
    assert "(line 1, column" in problem.message


def test_parse_json_rejects_nan(doc: dict) -> None:
    raw = json.dumps(doc).replace('"pass_mark": 70', '"pass_mark": NaN')
    problem = only(json_problems(raw))
    assert problem.message.startswith("The file is not valid JSON: NaN is not allowed")


def test_parse_json_not_utf8(doc: dict) -> None:
    raw = json.dumps(doc).encode("utf-8").replace(b"Unresponsive", b"Unresp\xffnsive")
    problem = only(json_problems(raw))
    assert problem.step is None
    assert problem.message.startswith("The file is not valid UTF-8 text")


def test_parse_json_str_with_lone_surrogate() -> None:
    problem = only(json_problems('{"title": "\ud800"}'))
    assert problem == Problem(None, "The file is not valid UTF-8 text.")


def test_parse_json_deep_nesting() -> None:
    problem = only(json_problems("[" * 200_000 + "]" * 200_000))
    assert problem.step is None


def test_parse_json_duplicate_keys_are_an_error(doc: dict) -> None:
    raw = json.dumps(doc).replace('"pass_mark": 70', '"pass_mark": 70, "pass_mark": 10')
    problem = only(json_problems(raw))
    assert problem == Problem(None, 'The key "pass_mark" appears twice in the same object.')


def test_parse_json_wrong_format(doc: dict) -> None:
    doc["format"] = "pathways-scenario/3"
    problem = only(json_problems(json.dumps(doc)))
    assert problem.message == (
        '"format" must be "pathways-scenario/1" or "pathways-scenario/2", '
        'not "pathways-scenario/3".'
    )


def test_parse_json_validates_the_graph(doc: dict) -> None:
    doc["steps"][2]["choices"][0]["next"] = "nowhere"
    problems = json_problems(json.dumps(doc))
    assert Problem("delay", 'Choice 1 leads to "nowhere", which is not a step.') in problems


def test_parse_json_reports_text_and_graph_problems_together(doc: dict) -> None:
    doc["title"] = "<h1>Stairwell</h1>"
    doc["extra"] = True
    doc["steps"][2]["choices"][0]["next"] = "nowhere"
    doc["steps"].append({"key": "orphan", "text": "Nobody comes here.", "outcome": "fail"})
    problems = json_problems(json.dumps(doc))
    assert [p.step for p in problems] == [None, None, "delay", "orphan", "delay"]
    assert problems[2].message == 'Choice 1 leads to "nowhere", which is not a step.'
    assert problems[3].message == 'This step cannot be reached from the start step "arrive".'
    assert problems[4].message == "No ending can be reached from this step."


def test_parse_json_skips_the_graph_when_its_shape_is_broken(doc: dict) -> None:
    doc["steps"][0]["choices"][0]["points"] = "two"  # the graph cannot be scored
    doc["steps"].append({"key": "orphan", "text": "Nobody comes here.", "outcome": "fail"})
    problems = json_problems(json.dumps(doc))
    assert [p.step for p in problems] == ["arrive"]


def test_scenario_invalid_message_lists_problems() -> None:
    error = ScenarioInvalid([Problem(None, "One."), Problem("a", "Two.")])
    assert str(error) == 'The scenario has 2 problems: One.; Step "a": Two.'


# --- Validation of the graph --------------------------------------------------------------------


def test_missing_start() -> None:
    problems = validate(scenario(decision("a", ("b", 1)), ending("b"), start_key="zz"))
    assert problems == [Problem(None, 'The start step "zz" does not exist.')]


def test_unknown_next() -> None:
    problems = validate(scenario(decision("a", ("b", 1), ("c", 1)), ending("b")))
    assert problems == [Problem("a", 'Choice 2 leads to "c", which is not a step.')]


def test_duplicate_step_key() -> None:
    problems = validate(scenario(decision("a", ("b", 1)), ending("b"), ending("b", "fail")))
    assert problems == [Problem("b", 'The key "b" is used by more than one step.')]


def test_unreachable_step() -> None:
    problems = validate(scenario(decision("a", ("b", 1)), ending("b"), ending("c")))
    assert problems == [Problem("c", 'This step cannot be reached from the start step "a".')]


def test_step_from_which_no_ending_can_be_reached() -> None:
    problems = validate(
        scenario(decision("a", ("b", 1), ("c", 0)), ending("b"), decision("c", ("c", 0)))
    )
    assert problems == [Problem("c", "No ending can be reached from this step.")]


def test_loop_that_gains_points() -> None:
    problems = validate(
        scenario(
            decision("a", ("b", 1)),
            decision("b", ("c", 2), ("end", 0)),
            decision("c", ("b", -1)),
            ending("end"),
        )
    )
    assert problems == [
        Problem(
            "b",
            'This step is on a loop that gains points ("b" → "c" → "b"); '
            "a loop's points must add up to 0 or less.",
        )
    ]


def test_self_loop_that_gains_points() -> None:
    problems = validate(scenario(decision("a", ("a", 1), ("end", 0)), ending("end")))
    assert [p.step for p in problems] == ["a"]
    assert "loop that gains points" in problems[0].message


def test_gaining_loop_hidden_in_a_bigger_loop_is_found() -> None:
    # a <-> b loses, b <-> c gains: the component {a, b, c} has a gaining loop through b, c.
    problems = validate(
        scenario(
            decision("a", ("b", 0), ("end", 0)),
            decision("b", ("a", -5), ("c", 3)),
            decision("c", ("b", -2)),
            ending("end"),
        )
    )
    assert problems == [
        Problem(
            "b",
            'This step is on a loop that gains points ("b" → "c" → "b"); '
            "a loop's points must add up to 0 or less.",
        )
    ]


def test_zero_and_losing_loops_are_allowed() -> None:
    try_again = scenario(
        decision("a", ("retry", 1), ("end", 3)),
        decision("retry", ("a", -1), ("penalty", 0)),
        decision("penalty", ("a", -4)),
        ending("end"),
    )
    assert validate(try_again) == []
    assert max_score(try_again) == 3


def test_no_path_can_pass_every_passing_route_is_critical() -> None:
    problems = validate(
        scenario(
            decision("a", ("win", 5, True), ("lose", 0)), ending("win"), ending("lose", "fail")
        )
    )
    assert problems == [
        Problem(None, "No path can pass: every route to a pass ending takes a critical choice.")
    ]


def test_no_path_can_pass_score_too_low() -> None:
    # Maximum 10 is only reachable on the way to a fail ending; the pass ending gives 4 < 5.
    problems = validate(
        scenario(decision("a", ("win", 4), ("lose", 10)), ending("win"), ending("lose", "fail"))
    )
    assert problems == [
        Problem(
            None,
            "No path can pass: the best score on a route to a pass ending without a critical "
            "choice is 4, but the pass mark needs 5 (50% of the maximum score, 10).",
        )
    ]


@pytest.mark.parametrize("outcome", ["fail", "neutral"])
def test_no_path_can_pass_without_a_pass_ending(outcome: str) -> None:
    # A neutral ending does no harm, but it is not the outcome the training is after.
    problems = validate(
        scenario(decision("a", ("b", 1), ("c", 0)), ending("b", outcome), ending("c", "fail"))
    )
    assert problems == [Problem(None, 'No path can pass: no ending has the outcome "pass".')]


def test_no_path_can_pass_when_only_a_neutral_ending_is_safe() -> None:
    problems = validate(
        scenario(
            decision("a", ("win", 5, True), ("meh", 5)), ending("win"), ending("meh", "neutral")
        )
    )
    assert problems == [
        Problem(None, "No path can pass: every route to a pass ending takes a critical choice.")
    ]


def test_ending_without_outcome_in_python_built_scenario() -> None:
    problems = validate(scenario(decision("a", ("b", 1), ("c", 0)), ending("b"), ending("c", "")))
    assert problems == [
        Problem("c", 'This ending needs an outcome of "pass", "fail" or "neutral".')
    ]


def test_decision_with_outcome_debrief_or_bad_points_in_python_built_scenario() -> None:
    step = Step(
        key="a",
        text="A",
        choices=[Choice(text="Go", next="b", points=11)],  # a list is turned into a tuple
        outcome="pass",
        debrief="No.",
    )
    problems = validate(scenario(step, ending("b"), pass_mark=101))
    assert problems == [
        Problem(None, "The pass mark must be from 0 to 100, not 101."),
        Problem("a", "Only endings have an outcome; this step has choices."),
        Problem("a", "Only endings have a debrief; this step has choices."),
        Problem("a", "Choice 1: points must be from -10 to 10, not 11."),
    ]
    assert isinstance(step.choices, tuple)


def test_bad_key_in_python_built_scenario() -> None:
    problems = validate(scenario(decision("a", ("b c", 1)), ending("b c")))
    assert problems == [Problem("b c", 'The key must be 1 to 64 letters, digits, "-" or "_".')]


def test_broken_graph_does_not_crash_and_reports_the_rest() -> None:
    broken = scenario(
        decision("a", ("b", 5)),
        decision("b", ("a", 5), ("ghost", 0)),
        decision("c", ("c", 1)),
        ending("d", "fail"),
        ending("d"),
        start_key="missing",
    )
    problems = validate(broken)
    assert problems == [
        Problem("d", 'The key "d" is used by more than one step.'),
        Problem(None, 'The start step "missing" does not exist.'),
        Problem("b", 'Choice 2 leads to "ghost", which is not a step.'),
        Problem("a", "No ending can be reached from this step."),
        Problem("b", "No ending can be reached from this step."),
        Problem("c", "No ending can be reached from this step."),
        Problem(
            "a",
            'This step is on a loop that gains points ("a" → "b" → "a"); '
            "a loop's points must add up to 0 or less.",
        ),
        Problem(
            "c",
            'This step is on a loop that gains points ("c" → "c"); '
            "a loop's points must add up to 0 or less.",
        ),
    ]
    report = analyse(broken)
    assert report.max_score is None
    assert report.path_count == 0
    with pytest.raises(ScenarioInvalid):
        max_score(broken)


def test_gaining_loop_on_the_way_makes_scores_unknown() -> None:
    looping = scenario(decision("a", ("a", 1), ("b", 0)), ending("b"))
    report = analyse(looping)
    assert report.max_score is None
    assert report.min_score is None
    assert report.path_count_capped


def test_graph_problems_are_all_reported_together() -> None:
    problems = validate(
        scenario(
            decision("a", ("b", 1), ("x", 0)),
            ending("b"),
            ending("b"),
            ending("lonely"),
        )
    )
    assert [p.step for p in problems] == ["b", "a", "lonely"]


# --- Scoring ------------------------------------------------------------------------------------


def test_max_score_takes_the_best_branch(stairwell: Scenario) -> None:
    assert max_score(stairwell) == 7


def test_max_score_counts_routes_to_fail_endings() -> None:
    branchy = scenario(
        decision("a", ("b", 1), ("c", 10)),
        decision("b", ("end", 2)),
        ending("c", "fail"),
        ending("end"),
        pass_mark=0,
    )
    assert max_score(branchy) == 10


def test_pass_threshold(stairwell: Scenario) -> None:
    assert pass_threshold(stairwell) == 5  # ceil(70% of 7 = 4.9)


@pytest.mark.parametrize(
    ("pass_mark", "maximum", "expected"),
    [
        (70, 7, 5),
        (70, 10, 7),  # exactly 7.0: no float error pushes it to 8
        (29, 100, 29),
        (1, 7, 1),
        (0, 7, None),
        (100, 7, 7),
        (100, 1, 1),
        (50, 0, 0),
        (50, -3, -3),
        (0, -3, None),
        (0, 0, None),
    ],
)
def test_threshold_for(pass_mark: int, maximum: int, expected: int | None) -> None:
    assert threshold_for(pass_mark, maximum) == expected


@pytest.mark.parametrize(
    ("score", "maximum", "expected"),
    [
        (7, 7, 100),
        (5, 7, 71),
        (0, 7, 0),
        (-4, 7, 0),
        (9, 7, 100),
        (2, 3, 66),
        (0, 0, 100),
        (-1, 0, 0),
        (-3, -3, 100),
        (-4, -3, 0),
    ],
)
def test_score_percent(score: int, maximum: int, expected: int) -> None:
    assert score_percent(score, maximum) == expected


def test_threshold_and_percent_agree() -> None:
    for pass_mark in range(101):
        for maximum in (-2, 0, 1, 3, 7, 19, 100):
            threshold = threshold_for(pass_mark, maximum)
            for score in range(-5, maximum + 1):
                reaches = threshold is None or score >= threshold
                assert reaches == (score_percent(score, maximum) >= pass_mark), (
                    pass_mark,
                    maximum,
                    score,
                )


def test_pass_ending_with_best_score_passes(stairwell: Scenario) -> None:
    state = replay(stairwell, [("arrive", 0), ("unrousable", 0), ("breathing", 0)])
    outcome = result(stairwell, state)
    assert outcome == engine.Result(
        outcome="pass",
        score=7,
        max_score=7,
        percent=100,
        passed=True,
        critical_taken=False,
        pass_threshold=5,
    )
    assert passes(stairwell, state)


def test_neutral_ending_does_not_pass_even_above_the_pass_mark(stairwell: Scenario) -> None:
    state = replay(stairwell, [("arrive", 0), ("unrousable", 0), ("breathing", 1)])
    outcome = result(stairwell, state)
    assert (outcome.outcome, outcome.score, outcome.percent, outcome.passed) == (
        "neutral",
        5,
        71,
        False,
    )
    assert {"pass"} == engine.PASSING_OUTCOMES


def test_fail_ending_fails(stairwell: Scenario) -> None:
    state = replay(stairwell, [("arrive", 0), ("unrousable", 1)])
    outcome = result(stairwell, state)
    assert (outcome.outcome, outcome.score, outcome.passed) == ("fail", 0, False)
    assert not passes(stairwell, state)


def test_fail_ending_fails_even_with_a_high_score() -> None:
    s = scenario(decision("a", ("win", 5), ("lose", 10)), ending("win"), ending("lose", "fail"))
    outcome = result(s, replay(s, [("a", 1)]))
    assert (outcome.score, outcome.percent, outcome.passed) == (10, 100, False)


def test_score_below_threshold_fails() -> None:
    s = scenario(decision("a", ("win", 10), ("meh", 4)), ending("win"), ending("meh"), pass_mark=50)
    assert not result(s, replay(s, [("a", 1)])).passed
    assert result(s, replay(s, [("a", 0)])).passed


def test_critical_choice_blocks_pass_even_with_a_high_score() -> None:
    s = scenario(
        decision("a", ("b", 10, True), ("b", 1)),
        ending("b"),
        pass_mark=10,
    )
    assert validate(s) == []
    risky = result(s, replay(s, [("a", 0)]))
    assert (risky.score, risky.percent, risky.critical_taken, risky.passed) == (
        10,
        100,
        True,
        False,
    )
    safe = result(s, replay(s, [("a", 1)]))
    assert (safe.score, safe.percent, safe.passed) == (1, 10, True)


def test_critical_on_a_fail_route_is_still_recorded(stairwell: Scenario) -> None:
    state = replay(stairwell, [("arrive", 1), ("delay", 0)])
    assert state.critical
    assert result(stairwell, state).critical_taken


def test_scoring_with_no_points_at_all() -> None:
    s = scenario(decision("a", ("b", 0)), ending("b"), pass_mark=80)
    assert validate(s) == []
    outcome = result(s, replay(s, [("a", 0)]))
    assert (outcome.max_score, outcome.pass_threshold, outcome.percent, outcome.passed) == (
        0,
        0,
        100,
        True,
    )


def test_pass_mark_zero_accepts_any_score() -> None:
    s = scenario(decision("a", ("b", 2), ("b", -3)), ending("b"), pass_mark=0)
    assert validate(s) == []
    assert pass_threshold(s) is None
    outcome = result(s, replay(s, [("a", 1)]))
    assert (outcome.score, outcome.percent, outcome.pass_threshold, outcome.passed) == (
        -3,
        0,
        None,
        True,
    )


def test_scoring_with_only_losses() -> None:
    s = scenario(decision("a", ("b", -1), ("b", -3)), ending("b"), pass_mark=50)
    assert validate(s) == []
    assert max_score(s) == -1
    assert result(s, replay(s, [("a", 0)])).passed
    assert not result(s, replay(s, [("a", 1)])).passed


def test_single_ending_scenario() -> None:
    s = scenario(ending("a"))
    assert validate(s) == []
    state = start(s)
    assert state.finished
    assert result(s, state).passed


# --- Author report ------------------------------------------------------------------------------


def test_report_for_the_example(stairwell: Scenario) -> None:
    assert analyse(stairwell) == engine.Report(
        problems=(),
        max_score=7,
        min_score=0,
        pass_threshold=5,
        path_count=4,
        path_count_capped=False,
        max_decisions=3,
        # Three decisions with two choices each, the best written first in all of them and
        # the longest in two: advice for the author, not a problem.
        warnings=(
            Problem(
                None,
                "The best choice is also the longest in 2 of 3 decisions: an officer could pass "
                "by picking the longest answer. Make the other choices as full, or the best one "
                "shorter.",
            ),
            Problem(
                None,
                "The best choice is the first choice in 3 of 3 decisions. Officers see the "
                "choices shuffled, but vary where you write the best one so that the order gives "
                "nothing away.",
            ),
        ),
    )
    assert analyse(stairwell).valid


def test_path_count_counts_each_choice() -> None:
    # Two choices to the same step are two paths.
    s = scenario(
        decision("a", ("b", 1), ("b", 2), ("c", 0)),
        decision("b", ("c", 1), ("d", 0)),
        ending("c"),
        ending("d", "fail"),
    )
    report = analyse(s)
    assert (report.path_count, report.path_count_capped) == (5, False)
    assert (report.max_score, report.min_score) == (3, 0)


def diamonds(layers: int) -> Scenario:
    """`layers` diamonds in a row: 2**layers paths from start to the ending."""
    steps = [decision(f"n{i}", (f"l{i}", 1), (f"r{i}", 0)) for i in range(layers)]
    steps += [decision(f"l{i}", (f"n{i + 1}", 0)) for i in range(layers)]
    steps += [decision(f"r{i}", (f"n{i + 1}", 0)) for i in range(layers)]
    return scenario(*steps, ending(f"n{layers}"), start_key="n0")


def test_path_count_exact_below_the_limit() -> None:
    report = analyse(diamonds(13))
    assert report.problems == ()
    assert (report.path_count, report.path_count_capped) == (8192, False)
    assert (report.max_score, report.min_score) == (13, 0)


def test_path_count_capped_above_the_limit() -> None:
    report = analyse(diamonds(14))  # 16,384 paths
    assert (report.path_count, report.path_count_capped) == (PATH_LIMIT, True)


def test_path_count_capped_when_a_loop_lies_on_the_way() -> None:
    s = scenario(decision("a", ("a", 0), ("b", 1)), ending("b"))
    report = analyse(s)
    assert report.problems == ()
    assert (report.path_count, report.path_count_capped) == (PATH_LIMIT, True)
    assert (report.max_score, report.min_score) == (1, 1)


def test_min_score_unknown_with_a_losing_loop() -> None:
    s = scenario(decision("a", ("a", -1), ("b", 2)), ending("b"))
    report = analyse(s)
    assert report.problems == ()
    assert (report.max_score, report.min_score, report.path_count_capped) == (2, None, True)


def test_loops_off_the_way_do_not_cap_the_count() -> None:
    # "trap" can be entered but never left towards an ending: invalid, yet countable.
    s = scenario(decision("a", ("b", 1), ("trap", 0)), ending("b"), decision("trap", ("trap", 0)))
    report = analyse(s)
    assert [p.step for p in report.problems] == ["trap"]
    assert (report.path_count, report.path_count_capped) == (1, False)


def generated_scenario(size: int) -> Scenario:
    """A ladder of `size` steps: each can go on, skip ahead, or retry an earlier step."""
    last = size - 3  # s0 .. s{last}, then two endings
    steps = []
    for i in range(last):
        choices: list[tuple[str, int]] = [(f"s{i + 1}", (i % 5) - 2)]
        if i + 2 <= last:
            choices.append((f"s{i + 2}", 1))
        if i >= 3:
            choices.append((f"s{i - 3}", -3))  # "try again": loses points
        choices.append((f"end{i % 2}", 0))
        steps.append(decision(f"s{i}", *choices))
    steps.append(decision(f"s{last}", (f"s{last - 1}", -1)))  # a step that only goes back
    steps.append(ending("end0", "fail"))
    steps.append(ending("end1", "pass"))
    return scenario(*steps, start_key="s0", pass_mark=0)


def test_generated_500_step_scenario_is_analysed() -> None:
    s = generated_scenario(MAX_STEPS)
    assert len(s.steps) == MAX_STEPS
    report = analyse(s)
    assert report.problems == ()
    assert report.max_score is not None
    assert report.min_score is None
    assert report.path_count_capped
    assert parse_json(json.dumps(to_document(s))) == s


def test_generated_500_step_dag_is_counted() -> None:
    steps = [
        decision(f"s{i}", (f"s{i + 1}", 1), (f"s{min(i + 2, 499)}", 2), ("s499", -1))
        for i in range(498)
    ]
    s = scenario(*steps, decision("s498", ("s499", 0)), ending("s499"), start_key="s0")
    assert len(s.steps) == MAX_STEPS
    report = analyse(s)
    assert report.problems == ()
    assert report.max_score == 1 + 2 * 249  # s0 -> s1, then jumps of two up to s499
    assert report.min_score == -1
    assert (report.path_count, report.path_count_capped) == (PATH_LIMIT, True)


def walks(s: Scenario, depth: int) -> list[tuple[int, str | None, bool]]:
    """Every (score, outcome, critical) of paths from the start to an ending, up to `depth`
    choices long: the slow, obvious way."""
    found: list[tuple[int, str | None, bool]] = []

    def go(key: str, score: int, critical: bool, left: int) -> None:
        step = s.step(key)
        if step.is_ending:
            found.append((score, step.outcome, critical))
        elif left:
            for choice in step.choices:
                if s.has_step(choice.next):
                    go(choice.next, score + choice.points, critical or choice.critical, left - 1)

    if s.has_step(s.start):
        go(s.start, 0, False, depth)
    return found


def test_analysis_agrees_with_enumerating_paths() -> None:
    rng = random.Random(20240601)
    compared = 0
    for _ in range(400):
        keys = [f"k{i}" for i in range(rng.randint(1, 5))]
        steps = [
            ending(key, rng.choice(engine.OUTCOMES))
            if rng.random() < 0.3
            else decision(
                key,
                *[
                    (rng.choice([*keys, "ghost"]), rng.randint(-3, 3), rng.random() < 0.2)
                    for _ in range(rng.randint(1, 2))
                ],
            )
            for key in keys
        ]
        s = scenario(*steps, start_key=rng.choice(keys), pass_mark=rng.choice([0, 30, 70, 100]))
        report = analyse(s)
        if report.max_score is None:
            continue
        compared += 1
        short, long = walks(s, 2 * len(keys) + 2), walks(s, 2 * len(keys) + 4)
        assert report.max_score == max(score for score, _o, _c in long)
        if report.min_score is not None:
            assert report.min_score == min(score for score, _o, _c in long)
        if report.path_count_capped:
            assert len(long) > len(short)  # a loop on the way: more paths the longer we look
        else:
            assert report.path_count == len(short) == len(long)
        can_pass = any(
            outcome in engine.PASSING_OUTCOMES
            and not critical
            and (report.pass_threshold is None or score >= report.pass_threshold)
            for score, outcome, critical in long
        )
        cannot = [p for p in report.problems if p.message.startswith("No path can pass")]
        assert can_pass == (not cannot)
    assert compared > 150


# --- Traversal ----------------------------------------------------------------------------------


def test_start(stairwell: Scenario) -> None:
    assert start(stairwell) == AttemptState(
        current="arrive", path=(), score=0, critical=False, finished=False
    )


def test_choose_moves_on_without_changing_the_old_state(stairwell: Scenario) -> None:
    first = start(stairwell)
    second = choose(stairwell, first, step="arrive", choice=0)
    assert first == start(stairwell)
    assert second == AttemptState(
        current="unrousable",
        path=(
            engine.TakenChoice(
                step="arrive", choice_index=0, points=2, critical=False, choice_id="c1"
            ),
        ),
        score=2,
        critical=False,
        finished=False,
    )
    third = choose(stairwell, second, step="unrousable", choice=1)
    assert (third.current, third.score, third.finished) == ("bad-outcome", 0, True)


def test_choose_wrong_step_detects_a_replayed_submission(stairwell: Scenario) -> None:
    state = choose(stairwell, start(stairwell), step="arrive", choice=0)
    with pytest.raises(engine.WrongStep) as caught:
        choose(stairwell, state, step="arrive", choice=0)  # the same form sent twice
    assert caught.value.code == "wrong_step"
    assert isinstance(caught.value, engine.EngineError)


def test_choose_after_finishing(stairwell: Scenario) -> None:
    state = replay(stairwell, [("arrive", 0), ("unrousable", 1)])
    with pytest.raises(engine.AttemptFinished) as caught:
        choose(stairwell, state, step="bad-outcome", choice=0)
    assert caught.value.code == "finished"


@pytest.mark.parametrize("choice", [-1, 2, 99, True, "0", None])
def test_choose_bad_choice(stairwell: Scenario, choice: object) -> None:
    with pytest.raises(engine.BadChoice) as caught:
        choose(stairwell, start(stairwell), step="arrive", choice=choice)  # type: ignore[arg-type]
    assert caught.value.code == "bad_choice"


def test_replay_rebuilds_the_same_state(stairwell: Scenario) -> None:
    state = start(stairwell)
    for step, choice in [("arrive", 0), ("unrousable", 0), ("breathing", 1)]:
        state = choose(stairwell, state, step=step, choice=choice)
    assert replay(stairwell, [("arrive", 0), ("unrousable", 0), ("breathing", 1)]) == state
    assert replay(stairwell, []) == start(stairwell)


def test_replay_rejects_records_out_of_order(stairwell: Scenario) -> None:
    with pytest.raises(engine.WrongStep):
        replay(stairwell, [("arrive", 0), ("breathing", 0)])


def test_replay_rejects_moves_after_the_end(stairwell: Scenario) -> None:
    with pytest.raises(engine.AttemptFinished):
        replay(stairwell, [("arrive", 0), ("unrousable", 1), ("bad-outcome", 0)])


def test_result_before_the_end(stairwell: Scenario) -> None:
    state = start(stairwell)
    with pytest.raises(engine.NotFinished) as caught:
        result(stairwell, state)
    assert caught.value.code == "not_finished"
    assert not passes(stairwell, state)


def test_broken_scenario_during_play() -> None:
    s = scenario(decision("a", ("gone", 1)))
    with pytest.raises(engine.BrokenScenario) as caught:
        choose(s, start(s), step="a", choice=0)
    assert caught.value.code == "broken_scenario"
    with pytest.raises(engine.BrokenScenario):
        start(scenario(ending("a"), start_key="b"))


# --- Round trip ---------------------------------------------------------------------------------


def test_round_trip_example(stairwell: Scenario, doc: dict) -> None:
    assert parse_document(to_document(stairwell)) == stairwell
    assert to_document(stairwell) == {
        **doc,
        "format": "pathways-scenario/2",
        "steps": to_document(stairwell)["steps"],
    }


def test_to_document_key_order(stairwell: Scenario) -> None:
    document = to_document(stairwell)
    assert document["format"] == "pathways-scenario/2"
    assert list(document) == ["format", "title", "summary", "pass_mark", "start", "steps"]
    arrive, good = document["steps"][0], document["steps"][4]
    assert list(arrive) == ["key", "text", "choices"]
    assert list(arrive["choices"][1]) == ["id", "text", "next", "points", "feedback", "critical"]
    assert list(good) == ["key", "text", "outcome", "debrief"]
    full = Step(
        key="a",
        text="A.",
        choices=(Choice(text="x", next="b", critical=True, pinned=True, sets=("f",)),),
    )
    assert list(_choice(full)) == [
        "id", "text", "next", "points", "critical", "pinned", "sets"
    ]  # fmt: skip
    ended = Step(key="b", text="B.", outcome="pass", debriefs=(engine.Debrief("f", "Yes."),))
    assert list(to_document(scenario(full, ended))["steps"][1]) == [
        "key", "text", "outcome", "debriefs"
    ]  # fmt: skip


def _choice(step: Step) -> dict:
    return to_document(scenario(step, ending("b")))["steps"][0]["choices"][0]


def test_to_document_omits_defaults() -> None:
    s = scenario(decision("a", ("b", 0)), ending("b"))
    assert to_document(s)["steps"] == [
        {
            "key": "a",
            "text": "Step a.",
            "choices": [{"id": "c1", "text": "Go to b", "next": "b", "points": 0}],
        },
        {"key": "b", "text": "End b.", "outcome": "pass"},
    ]


@pytest.mark.parametrize(
    "original",
    [
        scenario(ending("a")),
        scenario(decision("a", ("b", 0)), ending("b")),
        scenario(
            Step(
                key="a",
                text="First.\n\nSecond paragraph: “quotes”, é, and a < b.",
                choices=(
                    Choice(text="Risky", next="b", points=-10, feedback="Why?", critical=True),
                    Choice(text="Careful", next="c", points=10, feedback=""),
                ),
            ),
            ending("b", "fail", debrief="That was unsafe."),
            ending("c", "pass"),
            pass_mark=100,
        ),
        diamonds(3),
        generated_scenario(40),
    ],
)
def test_round_trip(original: Scenario) -> None:
    document = to_document(original)
    assert parse_document(document) == original
    assert parse_document(copy.deepcopy(document)) == original
    assert parse_json(json.dumps(document)) == original


# --- Independence from Django -------------------------------------------------------------------


ENGINE_MODULES = (
    "scenarios.engine",
    "scenarios.engine.model",
    "scenarios.engine.document",
    "scenarios.engine.analysis",
    "scenarios.engine.play",
)


def test_engine_modules_are_listed() -> None:
    # A new module in the package must be added to ENGINE_MODULES, so the check below sees it.
    package = REPO_ROOT / "scenarios" / "engine"
    found = {"scenarios.engine." + path.stem for path in package.glob("*.py")}
    assert found - {"scenarios.engine.__init__"} == set(ENGINE_MODULES) - {"scenarios.engine"}


# What each module may import from the package: one direction only, so no cycles.
ENGINE_LAYERS = {
    "model": set(),
    "analysis": {"model"},
    "document": {"model", "analysis"},
    "play": {"model", "analysis"},
    "__init__": {"model", "analysis", "document", "play"},
}


@pytest.mark.parametrize("name", sorted(ENGINE_LAYERS))
def test_engine_modules_import_in_one_direction(name: str) -> None:
    tree = ast.parse((REPO_ROOT / "scenarios" / "engine" / f"{name}.py").read_text())
    top_level = set(tree.body)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            assert node in top_level, f"{name}.py imports inside a function (line {node.lineno})"
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("scenarios"):
            assert node.module.startswith("scenarios.engine."), node.module
            imported.add(node.module.removeprefix("scenarios.engine."))
    assert imported <= ENGINE_LAYERS[name]


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_engine_does_not_import_django(module: str) -> None:
    # Each module on its own, in a fresh interpreter: importing one submodule first must not
    # pull in Django either.
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('django', 'wagtail')))\n"
        "assert not loaded, loaded\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
