"""The demo courses as a whole (issue "Curriculum v2"): the structural parts that a machine can
check, on the files and on what seed_demo loads from them. Whether a fact is right is checked by
people against the sources; that each jurisdiction's terms reach only its own officers, that
every lesson fits a sitting, states its outcomes and dates its references, that distressing
content is warned of and that every question can be answered right, is checked here.

The second half tests the checks themselves (courses.content_checks) on small modules made
wrong one way at a time, so that a check that stopped working would fail here."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from courses.content_checks import (
    MAX_LESSON_MINUTES,
    PRACTICAL_TRAINING,
    course_problems,
    jurisdiction_leaks,
    module_problems,
)
from courses.demo import CONTENT_DIR, DEMO_COURSES, read_course
from courses.models import BankQuestion, CoursePage, LessonPage, ModulePage
from courses.selectors import course_outline
from officers.jurisdictions import Jurisdiction
from officers.models import User
from pathways.demo import load_demo
from scenarios import engine
from scenarios.models import Scenario

FOLDERS = [CONTENT_DIR / name for name in DEMO_COURSES]
MAIN = "public-health-approach"


@pytest.mark.parametrize("folder", FOLDERS, ids=DEMO_COURSES)
def test_the_demo_course_files_have_no_problems(folder) -> None:  # noqa: ANN001
    assert course_problems(folder) == []


def test_check_content_says_so_and_fails_on_problems(tmp_path, capsys) -> None:  # noqa: ANN001
    call_command("check_content", *map(str, FOLDERS))
    assert "No problems." in capsys.readouterr().out
    (tmp_path / "modules").mkdir()
    (tmp_path / "course.json").write_text(json.dumps({"modules": ["missing"]}))
    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_content", str(tmp_path))
    with pytest.raises(CommandError, match="has no course.json"):
        call_command("check_content", str(tmp_path / "modules"))


def test_the_main_course_covers_what_the_curriculum_asks() -> None:
    course = read_course(CONTENT_DIR / "public_health_approach")
    slugs = [module["slug"] for module in course["modules"]]
    assert {"near-fatal-overdose-and-drug-alerts", "young-people-and-exploitation"} <= set(slugs)
    bank = [q for module in course["modules"] for q in module.get("bank", [])]
    assert len(bank) >= 30
    by = {code: [q for q in bank if q.get("jurisdiction") == code] for code in Jurisdiction.values}
    assert by[Jurisdiction.SCOTLAND] and by[Jurisdiction.ENGLAND_WALES]
    # Every module contributes, so that a draw spreads across them.
    assert all(module.get("bank") for module in course["modules"])
    # A twin of the possession stop for each jurisdiction, each for its own officers only.
    placed = {
        block["value"]["file"]: lesson.get("audience", [])
        for module in course["modules"]
        for lesson in module["lessons"]
        for block in lesson["body"]
        if block["type"] == "scenario"
    }
    assert placed["possession-stop.json"] == [Jurisdiction.SCOTLAND]
    assert placed["possession-stop-england-wales.json"] == [Jurisdiction.ENGLAND_WALES]


def test_the_overdose_scenario_checks_breathing_and_has_a_cpr_branch() -> None:
    scenario = engine.parse_json(
        (CONTENT_DIR.parent.parent / "scenarios/demo/overdose-stairwell.json").read_bytes()
    )
    text = " ".join(
        [step.text for step in scenario.steps]
        + [c.text for step in scenario.steps for c in step.choices]
    ).lower()
    assert "breathing" in text and "cpr" in text
    # Every choice that puts him in the recovery position before his breathing is checked, or
    # while he is not breathing normally, is critical: the passing routes never take one.
    for choice in (c for step in scenario.steps for c in step.choices):
        if "recovery position" in choice.text.lower() and choice.critical:
            break
    else:
        raise AssertionError("no critical recovery-position choice")


# ----------------------------------------------------------------------- what seed_demo loads


@pytest.fixture
def demo(db) -> None:  # noqa: ANN001
    load_demo()


def test_every_loaded_lesson_fits_a_sitting_and_states_its_outcomes(demo) -> None:  # noqa: ANN001
    lessons = LessonPage.objects.live()
    assert lessons.count() >= 25
    for lesson in lessons:
        assert lesson.duration_minutes <= MAX_LESSON_MINUTES, lesson.slug
        assert len(lesson.outcomes) >= 2, lesson.slug
    for module in ModulePage.objects.live():
        assert PRACTICAL_TRAINING in module.intro, module.slug


def test_every_placed_scenario_is_live_warned_and_for_its_lessons_officers(demo) -> None:  # noqa: ANN001
    for lesson in LessonPage.objects.live().exclude(scenario_ids=[]):
        for scenario in Scenario.objects.filter(pk__in=lesson.scenario_ids):
            assert scenario.live, scenario.title
            assert scenario.content_warning, scenario.title
            assert engine.validate(scenario.to_engine()) == []
            if lesson.audience:
                assert scenario.audience == lesson.audience, (lesson.slug, scenario.title)


@pytest.mark.parametrize("code", [Jurisdiction.SCOTLAND, Jurisdiction.ENGLAND_WALES])
def test_each_officer_gets_their_own_outline_and_a_full_fresh_draw(demo, code) -> None:  # noqa: ANN001
    course = CoursePage.objects.get(slug=MAIN)
    outline = course_outline(course, jurisdiction=code)
    titles = set(
        LessonPage.objects.filter(pk__in=[r.id for r in outline.lessons]).values_list(
            "slug", flat=True
        )
    )
    own, other = (
        ("scotland-recorded-police-warnings", "england-and-wales-diversion")
        if code == Jurisdiction.SCOTLAND
        else ("england-and-wales-diversion", "scotland-recorded-police-warnings")
    )
    assert own in titles and other not in titles
    usable = BankQuestion.objects.filter(course=course, live=True, jurisdiction__in=[code, "all"])
    # Enough for a first attempt, a retake and a refresher without repeats.
    assert usable.count() >= 3 * course.assessment_question_count
    for question in usable:
        options = [o.value for o in question.options]
        assert any(o["correct"] for o in options) and all(o["feedback"] for o in options)


def test_a_lesson_lists_its_outcomes_first_and_its_references_last(demo) -> None:  # noqa: ANN001
    officer = User.objects.get(email="officer@demo.police.uk")
    lesson = LessonPage.objects.get(slug="giving-nasal-naloxone")
    client = Client()
    client.force_login(officer)
    body = client.get(lesson.url + "?warning=accepted").content.decode()
    assert "By the end of this lesson you can" in body
    assert body.index("By the end of this lesson you can") < body.index('class="prose lesson-body"')
    references = body.index('id="references-title"')
    assert references > body.index('class="prose lesson-body"')
    cited = [b.value for b in lesson.body if b.block_type == "citation"]
    assert cited and all(f"({c['year']})" in body[references:] for c in cited)


# ------------------------------------------------------------------ the checks themselves


WARNING = {"type": "content_warning", "value": {"contains": "Overdose", "support": "Ask"}}
CITATION = {"source": "RCUK", "title": "Guidelines", "year": "2025", "note": ""}


def good_module() -> dict[str, Any]:
    question = {
        "prompt": "You find a man who is not breathing normally. What do you do?",
        "multiple": False,
        "options": [
            {"text": "Start CPR and give naloxone", "correct": True, "feedback": "Life first."},
            {"text": "Recovery position", "correct": False, "feedback": "Only if breathing."},
        ],
    }
    return {
        "title": "Overdose",
        "slug": "overdose",
        "intro": f"This module {PRACTICAL_TRAINING} in first aid.",
        "outcomes": ["respond to an overdose"],
        "audience": [],
        "lessons": [
            {
                "title": "Signs",
                "slug": "signs",
                "summary": "",
                "audience": [],
                "outcomes": ["recognise the signs of an opioid overdose"],
                "body": [
                    copy.deepcopy(WARNING),
                    {"type": "text", "value": "<p>An overdose can kill.</p>"},
                    {"type": "question", "value": question},
                    {"type": "citation", "value": dict(CITATION)},
                ],
            }
        ],
        "bank": [copy.deepcopy(question)],
    }  # fmt: skip


def _lesson(module: dict[str, Any]) -> dict[str, Any]:
    return module["lessons"][0]


def _body(module: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(b for b in _lesson(module)["body"] if b["type"] == kind)["value"]


BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "intro": (lambda m: m.update(intro="About overdose."), "does not say it does not replace"),
    "module outcomes": (lambda m: m.update(outcomes=[]), "overdose: no learning outcomes"),
    "lesson outcomes": (lambda m: _lesson(m).update(outcomes=[]), "signs: no learning outcomes"),
    "warning": (lambda m: _lesson(m)["body"].pop(0), "mentions 'overdose' but has no content"),
    "warning first": (
        lambda m: _lesson(m)["body"].append(_lesson(m)["body"].pop(0)),
        "the content warning is not the first block",
    ),
    "too long": (
        lambda m: _lesson(m)["body"].insert(1, {"type": "text", "value": "word " * 2100}),
        "a lesson fits in 10",
    ),
    "year": (lambda m: _body(m, "citation").update(year=""), "a reference has no year"),
    "references last": (
        lambda m: _lesson(m)["body"].append({"type": "text", "value": "<p>More.</p>"}),
        "references are not all at the end",
    ),
    "no correct": (
        lambda m: _body(m, "question")["options"][0].update(correct=False),
        "no option is marked correct",
    ),
    "two correct": (
        lambda m: _body(m, "question")["options"][1].update(correct=True),
        "2 correct options but not 'multiple'",
    ),
    "feedback": (
        lambda m: _body(m, "question")["options"][1].update(feedback=" "),
        "has no feedback",
    ),
    "verdict": (
        lambda m: m["bank"][0]["options"][1].update(feedback="Correct. Well done."),
        "feedback starts with a verdict",
    ),
    "derogatory": (
        lambda m: _body(m, "question").update(prompt="A junkie collapses. What now?"),
        "uses 'junkie' outside quotes",
    ),
    "audience": (lambda m: _lesson(m).update(audience=["wales"]), "unknown audience"),
    "hint twice": (
        lambda m: m["bank"][0].update(prompt="Which? Select all that apply."),
        "the page already does",
    ),
    "bank jurisdiction": (
        lambda m: m["bank"][0].update(jurisdiction="mars"),
        "unknown jurisdiction 'mars'",
    ),
}


def test_a_good_module_has_no_problems() -> None:
    assert module_problems(good_module()) == []
    assert jurisdiction_leaks([good_module()]) == []


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_each_check_catches_its_problem(name: str) -> None:
    module = good_module()
    breaks, expected = BREAKAGES[name]
    breaks(module)
    problems = module_problems(module)
    assert any(expected in problem for problem in problems), problems


def test_a_quoted_word_taught_as_one_not_to_use_is_allowed() -> None:
    module = good_module()
    _body(module, "question")["prompt"] = 'Why not write "junkie" in a log?'
    assert module_problems(module) == []


@pytest.mark.parametrize(
    ("where", "text", "shown_to"),
    [
        ("lesson", "<p>Offer a Recorded Police Warning.</p>", "england_wales"),
        ("lesson", "<p>Refer them to DIVERT.</p>", "scotland"),
        ("bank", "Would a community resolution fit?", "scotland"),
        ("switch-other", "<p>Report it to the Procurator Fiscal.</p>", "england_wales"),
        ("reference", "DIVERT: West Midlands pre-arrest drug diversion", "scotland"),
    ],
)
def test_another_jurisdictions_law_shown_to_an_officer_is_a_leak(where, text, shown_to) -> None:  # noqa: ANN001
    module = good_module()
    if where == "lesson":
        _lesson(module)["body"].insert(1, {"type": "text", "value": text})
    elif where == "bank":
        module["bank"][0]["prompt"] = text
    elif where == "reference":  # a reference listed for everyone
        _body(module, "citation")["title"] = text
    else:  # in the England and Wales body of a switch: seen there, by the wrong officers
        _lesson(module)["body"].insert(
            1,
            {
                "type": "jurisdiction_switch",
                "value": {"heading": "Outcomes", "scotland": "", "england_wales": text},
            },
        )
    leaks = jurisdiction_leaks([module])
    owner = ({"scotland", "england_wales"} - {shown_to}).pop()
    assert any(f"officers in {shown_to} are shown {owner}'s" in leak for leak in leaks), leaks
    assert not any(f"officers in {owner}" in leak for leak in leaks), leaks


@pytest.mark.parametrize(
    ("code", "text"),
    [("scotland", "<p>Offer a Recorded Police Warning.</p>"), ("england_wales", "<p>DIVERT.</p>")],
)
def test_a_jurisdictions_own_law_in_its_own_place_is_not_a_leak(code: str, text: str) -> None:
    in_lesson = good_module()
    _lesson(in_lesson)["audience"] = [code]
    _lesson(in_lesson)["body"].insert(1, {"type": "text", "value": text})
    in_switch = good_module()
    _lesson(in_switch)["body"].insert(
        1,
        {"type": "jurisdiction_switch", "value": {"heading": "Outcomes", code: text}},
    )
    in_bank = good_module()
    in_bank["bank"][0].update(prompt=text, jurisdiction=code)
    in_reference = good_module()
    _body(in_reference, "citation").update(title=text, audience=[code])
    assert jurisdiction_leaks([in_lesson, in_switch, in_bank, in_reference]) == []


@pytest.mark.parametrize(
    ("email", "shown", "hidden"),
    [
        (
            "officer@demo.police.uk",
            "Crown Office and Procurator Fiscal Service",
            "Centre for Justice",
        ),
        ("ew.officer@demo.police.uk", "Centre for Justice", "Crown Office and Procurator Fiscal"),
    ],
)
def test_each_officer_is_listed_their_own_jurisdictions_references(
    demo, email, shown, hidden
) -> None:  # noqa: ANN001
    lesson = LessonPage.objects.get(slug="choosing-the-right-route")
    client = Client()
    client.force_login(User.objects.get(email=email))
    body = client.get(lesson.url).content.decode()
    references = body[body.index('id="references-title"') :]
    assert shown in references and hidden not in references
    assert hidden not in body


def test_outline_for_is_the_rule_the_loaded_lessons_follow(demo) -> None:  # noqa: ANN001
    """The files' audiences reach the pages: a Scottish-only lesson is outside the England and
    Wales outline by the rule progress uses (courses.rules, through course_outline)."""
    course = CoursePage.objects.get(slug=MAIN)
    data = read_course(CONTENT_DIR / "public_health_approach")
    for code in (Jurisdiction.SCOTLAND, Jurisdiction.ENGLAND_WALES):
        shown = {r.id for r in course_outline(course, jurisdiction=code).lessons}
        slugs = set(LessonPage.objects.filter(pk__in=shown).values_list("slug", flat=True))
        expected = {
            lesson["slug"]
            for module in data["modules"]
            if not module.get("audience") or code in module["audience"]
            for lesson in module["lessons"]
            if not lesson.get("audience") or code in lesson["audience"]
        }
        assert slugs == expected
