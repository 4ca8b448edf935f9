"""Accessibility: axe-core on every learner page, keyboard-only play, visible focus, 320 px.

axe-core is the npm package pinned in package-lock.json (`make test` runs `npm ci`); the
audit reads node_modules/axe-core/axe.min.js, so nothing is fetched while the tests run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from certificates.models import Certificate
from courses.models import (
    AssessmentAttempt,
    BankQuestion,
    CourseIndexPage,
    CoursePage,
    Enrolment,
    LessonCompletion,
    LessonPage,
    ModulePage,
)
from officers.models import User
from scenarios import engine
from scenarios.models import Attempt, Scenario
from tests.browser.conftest import REQUIRE
from tests.browser.paths import route_with
from tests.browser.test_assessment_journey import record_scenario_pass
from tests.browser.test_journeys import answer_checks, sign_in, sign_out

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
AXE = Path(os.environ.get("PATHWAYS_AXE", ROOT / "node_modules/axe-core/axe.min.js"))
# WCAG 2.0, 2.1 and 2.2 at levels A and AA (axe has no "wcag22a" tag: 2.2's A rules are AA).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
    },
    "resultTypes": ["violations"],
}
NARROW = 320

# The pages audited, in the order `walk` visits them (listed in the README too).
PAGES = [
    "home page, signed out",
    "sign in",
    "sign in, wrong password",
    "sign up",
    "password reset",
    "check a certificate: empty form",
    "check a certificate: number and code with an error",
    "check a certificate: a real code",
    "check a certificate: an unknown code",
    "My learning (officer with certificates)",
    "home page, signed in",
    "My learning (recruit)",
    "course index",
    "course page",
    "module page",
    "lesson with a content warning, before continuing",
    "lesson with a content warning, after continuing",
    "lesson with a question answered with nothing chosen",
    "lesson with a question answered rightly",
    "lesson with a question answered wrongly",
    "search results",
    "lesson with a scenario",
    "scenario step",
    "scenario feedback",
    "scenario result, passed",
    "scenario feedback, last choice of a route that does not pass",
    "scenario result, not passed",
    "My learning (recruit, a course in progress)",
    "course page, every lesson done: the final assessment to start",
    "final assessment: a question",
    "final assessment: a question answered with nothing chosen",
    "final assessment: check your answers",
    "final assessment: result, not passed",
    "final assessment: result, passed",
    "account: email addresses",
    "account: two-factor authentication",
    "account: sessions",
    "account: change password",
]


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        message = f"axe-core not found at {AXE} (run `npm ci` in the project root)"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def audit_page(browser, live_server, axe_source) -> Iterator[object]:  # noqa: ANN001
    """A page whose context ignores the site's CSP, so that axe can be injected inline."""
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def axe_violations(page, axe_source: str) -> list[str]:  # noqa: ANN001
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    report = []
    for violation in results["violations"]:
        report.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            report.append(f"    at {node['target']}: {node['html'][:200]}")
            if node.get("failureSummary"):
                summary = " ".join(node["failureSummary"].split())
                report.append(f"      {summary[:300]}")
    return report


def _lesson_with(block_type: str) -> LessonPage:
    for lesson in LessonPage.objects.live().order_by("path"):
        if any(block.block_type == block_type for block in lesson.body):
            return lesson
    raise AssertionError(f"no demo lesson has a {block_type} block")


def _accept_warning(page) -> None:  # noqa: ANN001
    link = page.get_by_role("link", name="Continue to the lesson")
    if link.count():
        link.click()
        page.wait_for_load_state()


def _finish_lessons_on_the_server(email: str, course: CoursePage) -> None:
    """Record the rest of the officer's lessons in the course as done, each scenario passed."""
    user = User.objects.get(email=email)
    enrolment = Enrolment.objects.filter(user=user, course=course).latest("pk")
    done = set(enrolment.lesson_completions.values_list("lesson_id", flat=True))
    for lesson in LessonPage.objects.live().descendant_of(course).order_by("path"):
        for scenario_id in lesson.scenario_ids:
            record_scenario_pass(user, Scenario.objects.get(pk=scenario_id), lesson)
        if lesson.pk not in done:
            LessonCompletion.objects.create(enrolment=enrolment, lesson=lesson)


def _answer_assessment(page, *, right: bool) -> None:  # noqa: ANN001
    """Answer each question of the attempt under way (all right or all wrong), from the page
    of its first question to "Check your answers"."""
    attempt = AssessmentAttempt.objects.filter(submitted_at__isnull=True).latest("started_at")
    for answer in attempt.answers.order_by("position"):
        question = BankQuestion.objects.get(pk=answer.question_id)
        correct = {c.id for c in question.options if c.value["correct"]}
        wanted = (
            [i for i in answer.option_order if i in correct]
            if right
            else [next(i for i in answer.option_order if i not in correct)]
        )
        for option_id in wanted:
            page.locator(f"#answer-{option_id}").check()
        page.get_by_role("button", name="Next question").or_(
            page.get_by_role("button", name="Save and check your answers")
        ).click()
        page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Check your answers"


def walk(page, visit: Callable[[str], None]) -> list[str]:  # noqa: ANN001
    """Visit every audited page in turn and call `visit(name)` on each; return the names."""
    seen: list[str] = []

    def at(name: str, path: str | None = None) -> None:
        if path is not None:
            page.goto(path)
        page.wait_for_load_state()
        assert name in PAGES, name
        seen.append(name)
        visit(name)

    # Signed out.
    at("home page, signed out", "/")
    at("sign in", "/accounts/login/")
    page.get_by_label("Email").fill("recruit@demo.police.uk")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign In").click()
    page.locator("main").get_by_text("not correct").first.wait_for()
    at("sign in, wrong password")
    at("sign up", "/accounts/signup/")
    at("password reset", "/accounts/password/reset/")
    certificate = Certificate.objects.filter(user__email="officer@demo.police.uk").first()
    assert certificate is not None
    at("check a certificate: empty form", "/certificates/verify/")
    at(
        "check a certificate: number and code with an error",
        f"/certificates/verify/?number={certificate.number}&code=",
    )
    at("check a certificate: a real code", f"/certificates/verify/{certificate.code}/")
    at("check a certificate: an unknown code", "/certificates/verify/not-a-real-code-000/")

    # A serving officer with certificates.
    sign_in(page, "officer@demo.police.uk")
    at("My learning (officer with certificates)", "/learning/")
    sign_out(page)

    # The recruit works through the course.
    sign_in(page, "recruit@demo.police.uk")
    at("home page, signed in", "/")
    at("My learning (recruit)", "/learning/")
    course = CoursePage.objects.live().get(slug="public-health-approach")
    at("course index", CourseIndexPage.objects.live().first().url)
    at("course page", course.url)
    at("module page", ModulePage.objects.live().child_of(course).first().url)
    warned = _lesson_with("content_warning")
    at("lesson with a content warning, before continuing", warned.url)
    assert page.get_by_role("link", name="Continue to the lesson").count() == 1
    page.get_by_role("link", name="Continue to the lesson").click()
    page.wait_for_url("**?warning=accepted")
    at("lesson with a content warning, after continuing")
    questioned = _lesson_with("question")
    block = next(b for b in questioned.body if b.block_type == "question")
    page.goto(questioned.url)
    _accept_warning(page)
    options = block.value["options"].bound_blocks
    right = next(item.id for item in options if item.value["correct"])
    wrong = next(item.id for item in options if not item.value["correct"])
    section = page.locator(f"#block-{block.id}")
    section.get_by_role("button", name="Check answer").click()  # nothing chosen
    page.wait_for_load_state()
    at("lesson with a question answered with nothing chosen")
    assert page.locator("#check-error-summary").count() == 1
    for chosen, name, mark in (
        (right, "rightly", ".option--right"),
        (wrong, "wrongly", ".option--wrong"),
    ):
        section.locator(f'input[value="{chosen}"]').check()
        section.get_by_role("button", name="Check answer").click()
        page.wait_for_load_state()
        at(f"lesson with a question answered {name}")
        assert page.locator(mark).count() == 1
    at("search results", "/learning/search/?q=naloxone")
    assert "found" in page.inner_text("main")

    # A scenario: its lesson, a step, the feedback on a choice, and the result.
    played = _lesson_with("scenario")
    scenario = Scenario.objects.get(pk=played.scenario_ids[0])
    route = route_with(scenario.to_engine(), passed=True)
    failing = route_with(scenario.to_engine(), passed=False)
    page.goto(played.url)
    _accept_warning(page)
    at("lesson with a scenario")
    page.get_by_role("button", name="Start the scenario").click()
    page.wait_for_load_state()
    for number, (_step, choice_id) in enumerate(route):
        if number == 0:
            at("scenario step")
        page.locator(f"#choice-{choice_id}").check()
        page.get_by_role("button", name="Make this choice").click()
        page.wait_for_load_state()
        if number == 0:
            at("scenario feedback")
        page.get_by_role("link", name="Continue").or_(
            page.get_by_role("link", name="See how you did")
        ).click()
        page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Passed"
    at("scenario result, passed")
    page.get_by_role("button", name="Try again").click()
    page.wait_for_load_state()
    for number, (_step, choice_id) in enumerate(failing, start=1):
        page.locator(f"#choice-{choice_id}").check()
        page.get_by_role("button", name="Make this choice").click()
        page.wait_for_load_state()
        if number == len(failing):
            at("scenario feedback, last choice of a route that does not pass")
        page.get_by_role("link", name="Continue").or_(
            page.get_by_role("link", name="See how you did")
        ).click()
        page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Not passed"
    at("scenario result, not passed")

    # A course in progress: My learning shows its progress bar.
    page.goto(course.url)
    page.get_by_role("link", name="Start the course").or_(
        page.get_by_role("link", name="Continue", exact=True)
    ).click()
    page.wait_for_load_state()
    _accept_warning(page)
    answer_checks(page)
    page.get_by_role("button", name="Mark as complete").click()
    page.wait_for_load_state()
    at("My learning (recruit, a course in progress)", "/learning/")
    assert "lessons done" in page.inner_text("main")

    # The final assessment: with every lesson done (recorded on the server: working through
    # the lessons is the journeys' subject), a question, an empty answer, "Check your
    # answers", a fail and then a pass.
    _finish_lessons_on_the_server("recruit@demo.police.uk", course)
    at("course page, every lesson done: the final assessment to start", course.url)
    page.get_by_role("button", name="Start the final assessment").click()
    page.wait_for_load_state()
    at("final assessment: a question")
    page.get_by_role("button", name="Next question").click()  # nothing chosen
    page.wait_for_load_state()
    at("final assessment: a question answered with nothing chosen")
    assert "There is a problem" in page.inner_text("main")
    _answer_assessment(page, right=False)
    at("final assessment: check your answers")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Not passed"
    at("final assessment: result, not passed")
    page.get_by_role("button", name="Try the final assessment again").click()
    page.wait_for_load_state()
    _answer_assessment(page, right=True)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Passed"
    at("final assessment: result, passed")

    # The recruit's account pages.
    at("account: email addresses", "/accounts/email/")
    at("account: two-factor authentication", "/accounts/2fa/")
    at("account: sessions", "/accounts/sessions/")
    at("account: change password", "/accounts/password/change/")
    return seen


def test_learner_pages_have_no_wcag_violations(audit_page, axe_source, demo) -> None:  # noqa: ANN001
    found: dict[str, list[str]] = {}

    def visit(name: str) -> None:
        violations = axe_violations(audit_page, axe_source)
        if violations:
            found[f"{name} ({audit_page.url})"] = violations

    seen = walk(audit_page, visit)
    assert seen == PAGES
    report = "\n".join(f"{name}:\n" + "\n".join(lines) for name, lines in found.items())
    assert not found, f"axe-core found WCAG 2.2 A/AA violations on {len(found)} page(s):\n{report}"


def test_learner_pages_fit_320_px_without_horizontal_scrolling(
    audit_page, axe_source, demo
) -> None:  # noqa: ANN001, E501
    """WCAG 1.4.10 Reflow: at 320 CSS px nothing scrolls sideways, and axe is still clean."""
    audit_page.set_viewport_size({"width": NARROW, "height": 640})
    problems: list[str] = []

    def visit(name: str) -> None:
        width = audit_page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW:
            problems.append(f"{name} ({audit_page.url}): {width} px wide")
        violations = axe_violations(audit_page, axe_source)
        if violations:
            problems.append(f"{name} ({audit_page.url}):\n" + "\n".join(violations))

    seen = walk(audit_page, visit)
    assert seen == PAGES
    assert not problems, f"at {NARROW} px:\n" + "\n".join(problems)


def _active(page) -> dict:  # noqa: ANN001
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            return {
                tag: el.tagName.toLowerCase(),
                type: el.type || "",
                name: el.name || "",
                text: (el.innerText || el.value || "").trim(),
            };
        }"""
    )


def tab_to(page, wanted: Callable[[dict], bool], limit: int = 80) -> dict:  # noqa: ANN001
    """Press Tab until the focused element is the wanted one (keyboard only: no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = _active(page)
        if wanted(active):
            return active
    raise AssertionError(f"Tab never reached the element wanted on {page.url}")


def press_and_load(page, key: str) -> None:  # noqa: ANN001
    """Press a key that follows a link or submits a form, and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press(key)
    page.wait_for_load_state()


def test_a_scenario_can_be_completed_with_the_keyboard_alone(page, demo) -> None:  # noqa: ANN001
    lesson = _lesson_with("scenario")
    scenario = Scenario.objects.get(pk=lesson.scenario_ids[0])
    route = route_with(scenario.to_engine(), passed=True)
    sign_in(page, "recruit@demo.police.uk")
    page.goto(lesson.url)
    if page.get_by_role("link", name="Continue to the lesson").count():
        tab_to(page, lambda a: a["tag"] == "a" and a["text"] == "Continue to the lesson")
        press_and_load(page, "Enter")

    tab_to(page, lambda a: a["tag"] == "button" and a["text"] == "Start the scenario")
    press_and_load(page, "Enter")
    attempt = Attempt.objects.get(
        user__email="recruit@demo.police.uk", scenario=scenario, finished_at__isnull=True
    )
    played = scenario.to_engine()
    for step, choice_id in route:
        # The choices are shown in this attempt's order: the wanted one is this far down.
        shown = [c.id for c in engine.display_order(played.step(step), attempt.order_seed)]
        # Tab reaches the radio group (its first option); arrows move within it.
        tab_to(page, lambda a: a["type"] == "radio" and a["name"] == "choice")
        for _ in range(shown.index(choice_id)):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.id") == f"choice-{choice_id}"
        assert page.evaluate("document.activeElement.checked")
        tab_to(page, lambda a: a["tag"] == "button" and a["text"] == "Make this choice")
        press_and_load(page, "Enter")
        assert page.locator("h1").inner_text() == "What happened"
        tab_to(
            page,
            lambda a: a["tag"] == "a" and a["text"] in ("Continue", "See how you did"),
        )
        press_and_load(page, "Enter")
    assert page.locator("h1").inner_text() == "Passed"


FOCUS_STYLE = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {
        tag: el.tagName.toLowerCase(),
        label: (el.innerText || el.value || el.id || "").trim().slice(0, 60),
        outline: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth) || 0,
        shadow: style.boxShadow,
    };
}"""


def test_focus_is_visible_on_every_control_of_a_lesson(page, demo) -> None:  # noqa: ANN001
    lesson = _lesson_with("question")
    sign_in(page, "recruit@demo.police.uk")
    page.goto(lesson.url)
    if page.get_by_role("link", name="Continue to the lesson").count():
        page.get_by_role("link", name="Continue to the lesson").click()
        page.wait_for_load_state()
    tags: set[str] = set()
    invisible: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.body"):
            break
        focus = page.evaluate(FOCUS_STYLE)
        tags.add(focus["tag"])
        outlined = focus["outline"] != "none" and focus["outlineWidth"] >= 2
        if not outlined and focus["shadow"] == "none":
            invisible.append(f"{focus['tag']} {focus['label']!r}")
    # Links, buttons and the question's inputs were all reached.
    assert {"a", "button", "input"} <= tags, tags
    assert not invisible, "no visible focus on: " + ", ".join(invisible)
