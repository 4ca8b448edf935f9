"""Structural checks for course content written as files (the demo courses in
courses/demo_content/): what the content style guide (docs/content-style.md) asks of every
lesson, question and scenario that a machine can check. Pure functions on the JSON; no database.

Run them from the repository root while writing content:

    .venv/bin/python -m courses.content_checks courses/demo_content/public_health_approach

It prints one line per problem and exits 1 if there are any.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.utils.html import strip_tags

from courses.rules import lesson_minutes
from officers.jurisdictions import Jurisdiction
from scenarios import engine
from scenarios.demo import DEMO_DIR

MAX_LESSON_MINUTES = 10
# Once in every module's introduction.
PRACTICAL_TRAINING = "does not replace your force's practical training"
# Content that needs a warning before it: a lesson's text or a scenario's steps that mention it.
DISTRESSING = re.compile(
    r"\b(overdos\w*|died|dies|death\w*|dead|suicid\w*|self-harm\w*|exploit\w*)\b",
    re.IGNORECASE,
)
# A verdict the page already gives: feedback that starts with one reads "Correct. Correct."
VERDICT = re.compile(r"^\s*(correct|incorrect|right|wrong|yes|no|not quite|well done)\b", re.I)
# Words the content never uses about people, except inside quotation marks to teach why not.
DEROGATORY = re.compile(r"\b(junkies?|addicts?|druggies?|smackheads?|crackheads?)\b", re.I)
CITATION_KEYS = ("source", "title", "year")
JURISDICTIONS = set(Jurisdiction.values)


def _words(*texts: str) -> int:
    return sum(len(text.split()) for text in texts)


def _unquoted(text: str) -> str:
    """The text without what stands in quotation marks (a word taught as one not to use)."""
    return re.sub(r"[\"“‘'][^\"”’']*[\"”’']", " ", text)


def scenario_for(block_value: dict[str, Any], scenarios_dir: Path = DEMO_DIR) -> engine.Scenario:
    return engine.parse_json((scenarios_dir / block_value["file"]).read_bytes())


def lesson_estimate(lesson: dict[str, Any], scenarios_dir: Path = DEMO_DIR) -> int:
    """The lesson's minutes as LessonPage.estimated_minutes counts them (a jurisdiction switch
    counts its longest body: each officer reads one)."""
    words = decisions = questions = 0
    for block in lesson["body"]:
        value = block["value"]
        kind = block["type"]
        if kind == "text":
            words += _words(strip_tags(value))
        elif kind == "key_message":
            words += _words(value["heading"], value["text"])
        elif kind == "question":
            questions += 1
            words += _words(value["prompt"], *(o["text"] for o in value["options"]))
        elif kind == "jurisdiction_switch":
            bodies = [strip_tags(value.get(code) or "") for code in JURISDICTIONS]
            words += _words(value["heading"]) + max(_words(body) for body in bodies)
        elif kind == "scenario":
            decisions += engine.max_decisions(scenario_for(value, scenarios_dir)) or 0
    return lesson_minutes(words=words, scenario_decisions=decisions, questions=questions)


def _lesson_text(lesson: dict[str, Any]) -> str:
    parts = [lesson["title"], lesson.get("summary", "")]
    for block in lesson["body"]:
        value = block["value"]
        if block["type"] == "text":
            parts.append(strip_tags(value))
        elif block["type"] == "key_message":
            parts += [value["heading"], value["text"]]
        elif block["type"] == "jurisdiction_switch":
            parts += [strip_tags(value.get(code) or "") for code in JURISDICTIONS]
        elif block["type"] == "question":
            parts += [value["prompt"], *(o["text"] + " " + o["feedback"] for o in value["options"])]
    return "\n".join(parts)


def question_problems(where: str, question: dict[str, Any]) -> list[str]:
    problems = []
    options = question["options"]
    correct = [o for o in options if o.get("correct")]
    if not correct:
        problems.append(f"{where}: no option is marked correct")
    if not question.get("multiple") and len(correct) > 1:
        problems.append(f"{where}: {len(correct)} correct options but not 'multiple'")
    if len(options) < 2:
        problems.append(f"{where}: fewer than two options")
    if "all that apply" in question["prompt"].lower():
        problems.append(f"{where}: the prompt says 'all that apply'; the page already does")
    for option in options:
        feedback = (option.get("feedback") or "").strip()
        if not feedback:
            problems.append(f"{where}: option {option['text']!r} has no feedback")
        elif VERDICT.match(feedback):
            problems.append(f"{where}: feedback starts with a verdict: {feedback[:40]!r}")
    return problems


def scenario_problems(name: str, scenario: engine.Scenario) -> list[str]:
    """A scenario's problems and author warnings, and a missing content warning."""
    problems = [f"{name}: {problem}" for problem in engine.validate(scenario)]
    problems += [f"{name}: warning: {warning}" for warning in engine.author_warnings(scenario)]
    text = " ".join([scenario.summary] + [step.text for step in scenario.steps])
    distressing = DISTRESSING.search(text)
    if distressing and not scenario.content_warning.strip():
        problems.append(f"{name}: mentions {distressing.group(0)!r} but has no content warning")
    return problems


def module_problems(module: dict[str, Any], scenarios_dir: Path = DEMO_DIR) -> list[str]:
    """Everything the style guide asks of a module file that can be checked without reading it."""
    slug = module["slug"]
    problems = []
    if PRACTICAL_TRAINING not in module.get("intro", ""):
        problems.append(f"{slug}: the introduction does not say it {PRACTICAL_TRAINING}")
    if not module.get("outcomes"):
        problems.append(f"{slug}: no learning outcomes")
    audiences = [module.get("audience", [])]
    audiences += [lesson.get("audience", []) for lesson in module["lessons"]]
    for audience in audiences:
        if not set(audience) <= JURISDICTIONS:
            problems.append(f"{slug}: unknown audience {audience}")
    for lesson in module["lessons"]:
        where = f"{slug}/{lesson['slug']}"
        body = lesson["body"]
        if not lesson.get("outcomes"):
            problems.append(f"{where}: no learning outcomes")
        minutes = lesson_estimate(lesson, scenarios_dir)
        if minutes > MAX_LESSON_MINUTES:
            problems.append(
                f"{where}: about {minutes} minutes; a lesson fits in {MAX_LESSON_MINUTES}"
            )
        text = _lesson_text(lesson)
        has_warning = any(block["type"] == "content_warning" for block in body)
        distressing = DISTRESSING.search(text)
        if distressing and not has_warning:
            problems.append(
                f"{where}: mentions {distressing.group(0)!r} but has no content warning"
            )
        if has_warning and body[0]["type"] != "content_warning":
            problems.append(f"{where}: the content warning is not the first block")
        if DEROGATORY.search(_unquoted(text)):
            problems.append(
                f"{where}: uses {DEROGATORY.search(_unquoted(text)).group(0)!r} outside quotes"
            )
        citations = [block["value"] for block in body if block["type"] == "citation"]
        for citation in citations:
            missing = [key for key in CITATION_KEYS if not str(citation.get(key, "")).strip()]
            if missing:
                problems.append(
                    f"{where}: a reference has no {', '.join(missing)}: {citation.get('source')}"
                )
        kinds = [block["type"] for block in body]
        if citations and kinds[-len(citations) :] != ["citation"] * len(citations):
            problems.append(f"{where}: references are not all at the end of the lesson")
        for number, block in enumerate(body, 1):
            if block["type"] == "question":
                problems += question_problems(f"{where} question {number}", block["value"])
            if block["type"] == "scenario":
                scenario = scenario_for(block["value"], scenarios_dir)
                problems += scenario_problems(block["value"]["file"], scenario)
                if engine.max_decisions(scenario) is None:
                    problems.append(f"{where}: the scenario has a loop")
    for number, question in enumerate(module.get("bank", []), 1):
        where = f"{slug} bank {number}"
        problems += question_problems(where, question)
        if question.get("jurisdiction", "all") not in JURISDICTIONS | {"all"}:
            problems.append(f"{where}: unknown jurisdiction {question['jurisdiction']!r}")
    return problems


def course_problems(course_dir: Path, scenarios_dir: Path = DEMO_DIR) -> list[str]:
    course = json.loads((course_dir / "course.json").read_text(encoding="utf-8"))
    problems, modules = [], []
    for slug in course["modules"]:
        path = course_dir / "modules" / f"{slug}.json"
        if not path.is_file():
            problems.append(f"{slug}: there is no file {path}")
            continue
        try:
            modules.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as error:
            problems.append(f"{slug}: {path} is not valid JSON: {error}")
    for module in modules:
        try:
            problems += module_problems(module, scenarios_dir)
        except (KeyError, TypeError, OSError, engine.ScenarioInvalid) as error:
            problems.append(f"{module.get('slug')}: cannot be read: {error!r}")
    problems += jurisdiction_leaks(modules, scenarios_dir)
    slugs = [lesson["slug"] for module in modules for lesson in module["lessons"]]
    problems += [
        f"lesson slug {s!r} is used twice" for s in sorted({s for s in slugs if slugs.count(s) > 1})
    ]
    return problems


# --- One jurisdiction's law, shown only to its officers -----------------------------------------

# Names of one jurisdiction's law, schemes, bodies and figures' sources. None of them may reach an
# officer of the other: not in a lesson or scenario they are shown, not in a question they are
# asked, not in a reference listed for them (a citation block lists a source of one
# jurisdiction's law for its officers only).
JURISDICTION_TERMS: dict[str, tuple[str, ...]] = {
    Jurisdiction.SCOTLAND: (
        "Recorded Police Warning", "RPW", "Lord Advocate", "Procurator Fiscal", "Fiscal",
        "Children's Reporter", "Crown Office", "COPFS", "Distress Brief Intervention", "DBI",
        "Alcohol and Drug Partnership", "ADP", "RADAR", "ERSO", "STOP unit", "Thistle",
        "Police Scotland", "HMICS", "Inspectorate of Constabulary in Scotland",
        "Scottish Police Authority", "National Records of Scotland", "National Trauma",
        "early and effective intervention", "near-fatal-overdose group",
        "near-fatal overdose group",
    ),
    Jurisdiction.ENGLAND_WALES: (
        "DIVERT", "Checkpoint", "community resolution", "Outcome 22", "conditional caution",
        "simple caution", "khat", "Combating Drugs Partnership",
        "From Harm to Hope", "Office for Health Improvement", "OHID", "West Midlands",
        "Cranstoun", "Police and Crime Commissioner", "Swift, Certain, Tough", "Home Office",
        "College of Policing",
    ),
}  # fmt: skip


def _term_pattern(term: str) -> re.Pattern[str]:
    # A single word matches as written ("DIVERT", not "divert"; "Checkpoint", not a checkpoint);
    # a phrase in any case ("alcohol and drug partnership").
    flags = 0 if " " not in term else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){re.escape(term)}s?(?![\w-])", flags)


def _for(audience: list[str], code: str) -> bool:
    return not audience or code in audience


def _block_texts(block: dict[str, Any], code: str, scenarios_dir: Path) -> list[str]:
    value = block["value"]
    kind = block["type"]
    if kind == "text":
        return [strip_tags(value)]
    if kind == "key_message":
        return [value["heading"], value["text"]]
    if kind == "content_warning":
        return [value["contains"], value["support"]]
    if kind == "question":
        return _question_texts(value)
    if kind == "jurisdiction_switch":
        return [value["heading"], strip_tags(value.get(code) or "")]
    if kind == "local_information":
        return [value.get("lead_in", "")]
    if kind == "citation":
        if not _for(value.get("audience") or [], code):
            return []
        return [value["source"], value.get("title", ""), value.get("note", "")]
    if kind == "scenario":
        scenario = scenario_for(value, scenarios_dir)
        texts = [scenario.title, scenario.summary, scenario.content_warning]
        for step in scenario.steps:
            texts += [step.text, step.debrief, *(d.text for d in step.debriefs)]
            texts += [text for c in step.choices for text in (c.text, c.feedback)]
        return texts
    return []  # images, videos


def _question_texts(question: dict[str, Any]) -> list[str]:
    return [
        question["prompt"],
        *(t for o in question["options"] for t in (o["text"], o["feedback"])),
    ]


def officer_texts(
    modules: list[dict[str, Any]], code: str, scenarios_dir: Path = DEMO_DIR
) -> list[tuple[str, str]]:
    """(where, text) for everything an officer in jurisdiction `code` is shown or asked."""
    found = []
    for module in modules:
        if not _for(module.get("audience", []), code):
            continue
        found += [(module["slug"], module["title"]), (module["slug"], module.get("intro", ""))]
        found += [(module["slug"], outcome) for outcome in module.get("outcomes", [])]
        for lesson in module["lessons"]:
            if not _for(lesson.get("audience", []), code):
                continue
            where = f"{module['slug']}/{lesson['slug']}"
            found += [(where, lesson["title"]), (where, lesson.get("summary", ""))]
            found += [(where, outcome) for outcome in lesson.get("outcomes", [])]
            for block in lesson["body"]:
                found += [(where, text) for text in _block_texts(block, code, scenarios_dir)]
        for number, question in enumerate(module.get("bank", []), 1):
            if question.get("jurisdiction", "all") in ("all", code):
                where = f"{module['slug']} bank {number}"
                found += [(where, text) for text in _question_texts(question)]
    return found


def jurisdiction_leaks(modules: list[dict[str, Any]], scenarios_dir: Path = DEMO_DIR) -> list[str]:
    """One problem for each place where an officer is shown another jurisdiction's term."""
    problems = []
    for owner, terms in JURISDICTION_TERMS.items():
        patterns = [(term, _term_pattern(term)) for term in terms]
        for code in sorted(JURISDICTIONS - {owner}):
            for where, text in officer_texts(modules, code, scenarios_dir):
                for term, pattern in patterns:
                    if pattern.search(text):
                        problems.append(
                            f"{where}: officers in {code} are shown {owner}'s {term!r}: "
                            f"{text[:80]!r}"
                        )
    return sorted(set(problems))
