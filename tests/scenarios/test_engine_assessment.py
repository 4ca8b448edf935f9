"""The engine's assessment features: stable choice ids, the shuffled display order, format
version 2 (ids, pinned choices, flags and conditional debriefs), the review of an attempt,
"Decision N of up to M" and the author's warnings. Plain functions, no database."""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest

from scenarios import engine
from scenarios.engine import (
    Choice,
    Debrief,
    Problem,
    Scenario,
    ScenarioInvalid,
    Step,
    author_warnings,
    choose,
    debriefs_for,
    display_order,
    fill_choice_ids,
    max_decisions,
    parse_document,
    parse_json,
    replay,
    review,
    start,
    to_document,
    validate,
)


def ending(key: str, outcome: str = "pass", **kwargs: object) -> Step:
    return Step(key=key, text=f"End {key}.", outcome=outcome, **kwargs)  # type: ignore[arg-type]


def scenario(*steps: Step, start_key: str = "a", pass_mark: int = 50) -> Scenario:
    return Scenario(title="T", summary="", pass_mark=pass_mark, start=start_key, steps=steps)


def options(*ids: str, pinned: tuple[str, ...] = ()) -> Step:
    return Step(
        key="a",
        text="A.",
        choices=tuple(Choice(text=i, next="b", id=i, pinned=i in pinned) for i in ids),
    )


V2: dict = {
    "format": "pathways-scenario/2",
    "title": "Flags",
    "pass_mark": 50,
    "start": "a",
    "steps": [
        {
            "key": "a",
            "text": "What first?",
            "choices": [
                {"id": "call", "text": "Call 999", "next": "b", "points": 2, "sets": ["called"]},
                {"id": "wait", "text": "Wait", "next": "b", "points": 0},
                {"id": "none", "text": "None of these", "next": "b", "pinned": True},
            ],
        },
        {
            "key": "b",
            "text": "Then?",
            "choices": [
                {"id": "stay", "text": "Stay", "next": "end", "points": 2, "sets": ["stayed"]},
                {"id": "go", "text": "Go", "next": "end", "critical": True},
            ],
        },
        {
            "key": "end",
            "text": "The crew arrives.",
            "outcome": "pass",
            "debrief": "Preserving life comes first.",
            "debriefs": [
                {"if": "called", "text": "You called 999 early."},
                {"unless": "called", "text": "Call 999 before anything else."},
                {"if": "stayed", "text": "You stayed with him."},
            ],
        },
    ],
}


@pytest.fixture
def v2() -> dict:
    return copy.deepcopy(V2)


def problems_of(data: object) -> list[Problem]:
    with pytest.raises(ScenarioInvalid) as caught:
        parse_json(json.dumps(data))
    return caught.value.problems


# --- Stable ids ---------------------------------------------------------------------------------


def test_choices_without_ids_get_them_by_position_skipping_ids_taken() -> None:
    filled = fill_choice_ids(
        [Choice("x", "b"), Choice("y", "b", id="c1"), Choice("z", "b"), Choice("w", "b", id="c3")]
    )
    assert [c.id for c in filled] == ["c1-2", "c1", "c3-2", "c3"]
    assert [c.id for c in options("p", "q").choices] == ["p", "q"]  # given ids are kept
    assert [c.id for c in Step("a", "A.", (Choice("x", "b"), Choice("y", "b"))).choices] == [
        "c1",
        "c2",
    ]


def test_step_finds_a_choice_by_id() -> None:
    step = options("p", "q")
    assert step.choice("q").text == "q"
    with pytest.raises(KeyError):
        step.choice("0")


def test_ids_must_be_unique_within_a_step_and_well_formed() -> None:
    s = scenario(
        Step("a", "A.", (Choice("x", "b", id="same"), Choice("y", "b", id="same"))),
        Step("b", "B.", (Choice("x", "end", id="same"), Choice("y", "end", id="bad id"))),
        ending("end"),
    )
    assert validate(s) == [
        Problem(
            "a",
            'Choice 2: the id "same" is already used by choice 1 of this step; ids must be '
            "unique within a step.",
        ),
        Problem("b", 'Choice 2: the id must be 1 to 64 letters, digits, "-" or "_", '
                     "not 'bad id'."),
    ]  # fmt: skip


# --- Display order ------------------------------------------------------------------------------


def test_display_order_is_fixed_by_the_seed() -> None:
    step = options("a1", "b2", "c3", "d4", "e5")
    first = display_order(step, 12345)
    assert display_order(step, 12345) == first  # a reload, a resume, a replay
    assert sorted(c.id for c in first) == ["a1", "b2", "c3", "d4", "e5"]
    orders = {tuple(c.id for c in display_order(step, seed)) for seed in range(20)}
    assert len(orders) > 10  # other attempts, other orders


def test_display_order_depends_on_ids_not_on_the_authored_order() -> None:
    step = options("a1", "b2", "c3", "d4")
    reordered = Step("a", "A.", tuple(reversed(step.choices)))
    for seed in range(30):
        assert display_order(step, seed) == display_order(reordered, seed)
        # A choice added by a later revision leaves the others in the same relative order.
        grown = Step("a", "A.", (*step.choices, Choice("new", "b", id="e5")))
        kept = [c.id for c in display_order(grown, seed) if c.id != "e5"]
        assert kept == [c.id for c in display_order(step, seed)]


def test_display_order_depends_on_the_step() -> None:
    here, there = (
        options("a1", "b2", "c3", "d4"),
        Step("b", "B.", options("a1", "b2", "c3", "d4").choices),
    )
    differ = sum(display_order(here, seed) != display_order(there, seed) for seed in range(20))
    assert differ > 10


def test_pinned_choices_come_last_in_authored_order() -> None:
    step = options("none", "a1", "b2", "c3", "other", pinned=("none", "other"))
    for seed in range(50):
        shown = [c.id for c in display_order(step, seed)]
        assert shown[-2:] == ["none", "other"]
        assert sorted(shown[:3]) == ["a1", "b2", "c3"]


def test_every_choice_comes_first_about_as_often() -> None:
    step = options("a1", "b2", "c3")
    firsts = Counter(display_order(step, seed)[0].id for seed in range(3000))
    assert set(firsts) == {"a1", "b2", "c3"}
    assert all(850 < n < 1150 for n in firsts.values()), firsts


# --- Choosing by id -----------------------------------------------------------------------------


def test_choose_takes_an_id_and_records_it_with_the_position(v2: dict) -> None:
    s = parse_document(v2)
    state = choose(s, start(s), step="a", choice="wait")
    assert state.path[0] == engine.TakenChoice("a", 1, 0, False, "wait")
    assert replay(s, [("a", "wait")]) == state


@pytest.mark.parametrize("bad", ["0", "1", "", "CALL", "call ", None, True, 1.0])
def test_choose_refuses_what_is_not_an_id_of_the_step(v2: dict, bad: object) -> None:
    s = parse_document(v2)
    with pytest.raises(engine.BadChoice):
        choose(s, start(s), step="a", choice=bad)  # type: ignore[arg-type]


# --- Format version 2 ---------------------------------------------------------------------------


def test_version_2_reads_ids_pinned_flags_and_debriefs(v2: dict) -> None:
    s = parse_json(json.dumps(v2))
    first = s.step("a")
    assert [c.id for c in first.choices] == ["call", "wait", "none"]
    assert first.choices[0].sets == ("called",) and first.choices[2].pinned
    assert s.step("end").debriefs == (
        Debrief("called", "You called 999 early."),
        Debrief("called", "Call 999 before anything else.", unless=True),
        Debrief("stayed", "You stayed with him."),
    )
    assert to_document(s) == v2 | {"summary": "", "steps": to_document(s)["steps"]}
    assert parse_document(to_document(s)) == s
    assert to_document(s)["steps"][0]["choices"][2] == {
        "id": "none",
        "text": "None of these",
        "next": "b",
        "points": 0,
        "pinned": True,
    }


def test_version_2_generates_ids_that_are_absent(v2: dict) -> None:
    for choice in v2["steps"][0]["choices"]:
        del choice["id"]
    v2["steps"][0]["choices"][1]["id"] = "c1"
    assert [c.id for c in parse_json(json.dumps(v2)).step("a").choices] == ["c1-2", "c1", "c3"]


@pytest.mark.parametrize(
    ("where", "key", "value"),
    [("choice", "id", "x"), ("choice", "pinned", True), ("choice", "sets", ["f"]),
     ("ending", "debriefs", [])],
)  # fmt: skip
def test_version_1_refuses_the_keys_of_version_2(where: str, key: str, value: object) -> None:
    doc = copy.deepcopy(V2)
    doc["format"] = "pathways-scenario/1"
    for step in doc["steps"]:
        step.pop("debriefs", None)
        for choice in step.get("choices", []):
            for name in ("id", "pinned", "sets"):
                choice.pop(name, None)
    parse_json(json.dumps(doc))  # valid as version 1
    target = doc["steps"][0]["choices"][0] if where == "choice" else doc["steps"][2]
    target[key] = value
    problem = problems_of(doc)[0]
    assert problem.message.startswith(
        f'{"Choice 1: " if where == "choice" else ""}Unknown key "{key}"'
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["steps"][0]["choices"][0].update(id="bad id"),
         Problem("a", 'Choice 1: "id" must be 1 to 64 letters, digits, "-" or "_", not "bad id".')),
        (lambda d: d["steps"][0]["choices"][0].update(id=7),
         Problem("a", 'Choice 1: "id" must be 1 to 64 letters, digits, "-" or "_", not 7.')),
        (lambda d: d["steps"][0]["choices"][1].update(id="call"),
         Problem("a", 'Choice 2: the id "call" is already used by choice 1 of this step; ids must '
                      "be unique within a step.")),
        (lambda d: d["steps"][0]["choices"][0].update(pinned="yes"),
         Problem("a", 'Choice 1: "pinned" must be true or false, not "yes".')),
        (lambda d: d["steps"][0]["choices"][0].update(sets="called"),
         Problem("a", 'Choice 1: "sets" must be a list of flag names, not "called".')),
        (lambda d: d["steps"][0]["choices"][0].update(sets=["called", "no way"]),
         Problem("a", 'Choice 1: each flag in "sets" must be 1 to 64 letters, digits, "-" or "_", '
                      'not "no way".')),
        (lambda d: d["steps"][2].update(debriefs={"if": "called"}),
         Problem("end", '"debriefs" must be a list of {"if": flag, "text": ...} or '
                        '{"unless": flag, "text": ...} objects, not {"if": "called"}.')),
        (lambda d: d["steps"][2]["debriefs"].append({"if": "called", "unless": "x", "text": "T"}),
         Problem("end", 'Debrief 4: a debrief has "if" or "unless", not both.')),
        (lambda d: d["steps"][2]["debriefs"].append({"text": "T"}),
         Problem("end", 'Debrief 4: a debrief needs "if" or "unless" and a flag name.')),
        (lambda d: d["steps"][2]["debriefs"].append({"if": "called", "text": " "}),
         Problem("end", 'Debrief 4: "text" must not be empty.')),
        (lambda d: d["steps"][2]["debriefs"].append({"if": "called", "txt": "T", "text": "T"}),
         Problem("end", 'Debrief 4: Unknown key "txt" (expected "if", "unless", "text").')),
        (lambda d: d["steps"][2]["debriefs"].append({"if": "praised", "text": "Well done."}),
         Problem("end", 'Debrief 4: no choice sets the flag "praised", so this debrief could '
                        "never show.")),
        (lambda d: d["steps"][2]["debriefs"].append({"unless": "praised", "text": "Do better."}),
         Problem("end", 'Debrief 4: no choice sets the flag "praised", so this debrief would '
                        "always show.")),
        (lambda d: d["steps"][0].update(debriefs=[]),
         Problem("a", '"debriefs" is only for endings, not steps with choices.')),
    ],
)  # fmt: skip
def test_version_2_problems(v2: dict, change, expected: Problem) -> None:  # noqa: ANN001
    change(v2)
    assert problems_of(v2)[0] == expected


def test_debriefs_on_a_decision_built_in_python_are_a_problem() -> None:
    decision = Step("a", "A.", (Choice("x", "b", sets=("f",)),), debriefs=(Debrief("f", "T"),))
    assert validate(scenario(decision, ending("b"))) == [
        Problem("a", "Only endings have debriefs; this step has choices.")
    ]


# --- Debriefs follow the route ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ([("a", "call"), ("b", "stay")],
         ("Preserving life comes first.", "You called 999 early.", "You stayed with him.")),
        ([("a", "wait"), ("b", "stay")],
         ("Preserving life comes first.", "Call 999 before anything else.",
          "You stayed with him.")),
        ([("a", "none"), ("b", "go")],
         ("Preserving life comes first.", "Call 999 before anything else.")),
    ],
)  # fmt: skip
def test_the_debrief_says_what_this_route_did(v2: dict, route: list, expected: tuple) -> None:
    s = parse_document(v2)
    assert debriefs_for(s, replay(s, route)) == expected


def test_debriefs_need_an_ending(v2: dict) -> None:
    s = parse_document(v2)
    with pytest.raises(engine.NotFinished):
        debriefs_for(s, start(s))


def test_review_separates_what_went_well_from_what_to_change(v2: dict) -> None:
    s = parse_document(v2)
    done = review(s, replay(s, [("a", "call"), ("b", "go")]))
    assert [(r.step.key, r.choice.id, r.points_lost) for r in done.went_well] == [("a", "call", 0)]
    # "go" is worth 0 of the 2 points available, and critical.
    assert [(r.step.key, r.choice.id, r.points_lost) for r in done.to_change] == [("b", "go", 2)]
    done = review(s, replay(s, [("a", "wait"), ("b", "stay")]))
    assert [r.choice.id for r in done.went_well] == ["stay"]
    assert [r.choice.id for r in done.to_change] == ["wait"]


def test_a_critical_choice_worth_the_most_points_is_still_to_change() -> None:
    s = scenario(
        Step("a", "A.", (Choice("risky", "b", points=3, critical=True), Choice("ok", "b", 1))),
        ending("b"),
    )
    done = review(s, replay(s, [("a", "c1")]))
    assert done.went_well == () and [r.choice.text for r in done.to_change] == ["risky"]


# --- Decision N of up to M ----------------------------------------------------------------------


def test_max_decisions_is_the_longest_route_to_an_ending(v2: dict) -> None:
    assert max_decisions(parse_document(v2)) == 2
    branchy = scenario(
        Step("a", "A.", (Choice("x", "end"), Choice("y", "b"))),
        Step("b", "B.", (Choice("x", "c"),)),
        Step("c", "C.", (Choice("x", "end"), Choice("y", "fail"))),
        ending("end"),
        ending("fail", "fail"),
    )
    assert max_decisions(branchy) == 3
    assert engine.analyse(branchy).max_decisions == 3
    assert max_decisions(scenario(ending("a"))) == 0


def test_max_decisions_is_unbounded_with_a_loop_on_the_way() -> None:
    looping = scenario(
        Step("a", "A.", (Choice("again", "a", -1), Choice("on", "b", 1))), ending("b")
    )
    assert validate(looping) == []
    assert max_decisions(looping) is None


def test_max_decisions_of_a_broken_scenario_is_unknown() -> None:
    assert max_decisions(scenario(Step("a", "A.", (Choice("x", "nowhere"),)))) is None


# --- Author warnings ----------------------------------------------------------------------------


def decision(
    key: str, best_at: int, texts: tuple[str, ...] = ("Short", "Medium one", "A long one here")
) -> Step:
    return Step(
        key=key,
        text="?",
        choices=tuple(
            Choice(text, "end", points=2 if i == best_at else 0) for i, text in enumerate(texts)
        ),
    )


def chain(*steps: Step) -> Scenario:
    linked = []
    for number, step in enumerate(steps):
        after = steps[number + 1].key if number + 1 < len(steps) else "end"
        linked.append(Step(step.key, step.text, tuple(
            Choice(c.text, after, c.points, id=c.id) for c in step.choices
        )))  # fmt: skip
    return scenario(*linked, ending("end"), start_key=steps[0].key)


def test_no_warnings_when_the_best_choice_varies_in_place_and_length() -> None:
    s = chain(decision("a", 0), decision("b", 1), decision("c", 2), decision("d", 1))
    assert validate(s) == []
    assert author_warnings(s) == []


def test_a_best_choice_that_is_always_first_is_a_warning() -> None:
    s = chain(decision("a", 0), decision("b", 0), decision("c", 1))
    assert author_warnings(s) == [
        Problem(
            None,
            "The best choice is the first choice in 2 of 3 decisions. Officers see the choices "
            "shuffled, but vary where you write the best one so that the order gives nothing "
            "away.",
        )
    ]


def test_a_best_choice_that_is_always_last_is_a_warning() -> None:
    two = ("Yes", "No way")
    s = chain(decision("a", 2), decision("b", 1, two), decision("c", 2), decision("d", 0))
    assert [w.message.split(" in ")[0] for w in author_warnings(s)] == [
        "The best choice is also the longest",
        "The best choice is the last choice",
    ]


def test_a_best_choice_that_is_the_longest_is_a_warning() -> None:
    s = chain(decision("a", 2), decision("b", 0, ("A much longer answer", "No")), decision("c", 1))
    assert author_warnings(s)[0].message.startswith(
        "The best choice is also the longest in 2 of 3 decisions"
    )


def test_warnings_need_three_decisions_with_one_best_choice() -> None:
    assert author_warnings(chain(decision("a", 0), decision("b", 0))) == []
    tied = Step("c", "?", (Choice("x", "end", 1), Choice("y", "end", 1)))
    single = Step("d", "?", (Choice("x", "end", 1),))
    assert author_warnings(chain(decision("a", 0), decision("b", 0), tied, single)) == []


def test_warnings_never_make_a_scenario_invalid() -> None:
    s = chain(decision("a", 2), decision("b", 2), decision("c", 2))
    report = engine.analyse(s)
    assert report.valid and len(report.warnings) == 2


def test_the_example_in_the_format_document_imports_and_scores_as_described() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md").read_text()
    example = text.split("```json\n", 1)[1].split("```", 1)[0]
    s = parse_json(example)
    assert engine.analyse(s).valid and engine.max_score(s) == 4 and engine.pass_threshold(s) == 3
    best = replay(s, [("arrive", "check-and-call"), ("unrousable", "naloxone")])
    assert engine.result(s, best).passed
    assert debriefs_for(s, best) == (
        "You gave naloxone and stayed with him.",
        "You called 999 early.",
    )
    neutral = replay(s, [("arrive", "check-and-call"), ("unrousable", "wait")])
    assert (engine.result(s, neutral).outcome, engine.result(s, neutral).passed) == (
        "neutral",
        False,
    )
