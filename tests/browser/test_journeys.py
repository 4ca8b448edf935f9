"""Journeys through the real pages in Chromium: a recruit learns, an author builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from courses.models import CoursePage, LessonPage, ModulePage
from courses.selectors import course_outline
from officers.models import User
from officers.selectors import officer_jurisdiction
from pathways.demo import DEMO_PASSWORD
from scenarios.models import Scenario
from tests.browser.paths import route_with

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def sign_in(page, email: str) -> None:  # noqa: ANN001
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/")


def sign_out(page) -> None:  # noqa: ANN001
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def past_warning(page) -> None:  # noqa: ANN001
    """Continue past the lesson's content warning, if it shows one, to the lesson itself."""
    page.wait_for_load_state()
    if page.get_by_role("link", name="Continue to the lesson").count():
        page.get_by_role("link", name="Continue to the lesson").click()
        page.locator("section.lesson-end").wait_for()


def answer_checks(page, lesson: LessonPage | None = None) -> None:  # noqa: ANN001
    """Answer every check question of the lesson on the page correctly, as "Mark as complete"
    needs: tick the right options by id (their order is shuffled per run), press "Check
    answer", and see the page say so. The lesson is the one the check forms post to.

    It first waits for the lesson's body: after "Continue to the lesson" or "Back to the lesson"
    the click may not have navigated yet, and the page it leaves has no check forms."""
    page.locator("section.lesson-end").wait_for()
    if lesson is None:
        forms = page.locator('form[action*="/learning/lessons/"][action$="/check/"]')
        if not forms.count():
            return
        lesson_id = int(forms.first.get_attribute("action").rstrip("/").split("/")[-2])
        lesson = LessonPage.objects.get(pk=lesson_id)
    for block in lesson.specific.body:
        if block.block_type != "question":
            continue
        section = page.locator(f"#block-{block.id}")
        for item in block.value["options"].bound_blocks:
            if item.value["correct"]:
                section.locator(f'input[value="{item.id}"]').check()
        section.get_by_role("button", name="Check answer").click()
        page.wait_for_load_state()
        assert "Well done" in section.locator(".question__result").inner_text(), page.url


def complete_lesson(page, lesson: LessonPage) -> None:  # noqa: ANN001
    """On the lesson's page: past its content warning, pass its scenario, answer its checks
    and mark it complete."""
    past_warning(page)
    if lesson.scenario_ids:
        scenario = Scenario.objects.get(pk=lesson.scenario_ids[0])
        page.get_by_role("button", name="Start the scenario").click()
        play(page, scenario, route_with(scenario.to_engine(), passed=True))
        assert page.locator("h1").inner_text() == "Passed"
        page.get_by_role("link", name="Back to the lesson").click()
    answer_checks(page)
    page.get_by_role("button", name="Mark as complete").click()


def play(page, scenario: Scenario, route: list[tuple[str, str]]) -> None:  # noqa: ANN001
    """Play a route with the keyboard only: focus the option (by its choice id: the order is
    shuffled per attempt), Space to choose, Enter."""
    for _step, choice_id in route:
        page.locator(f"#choice-{choice_id}").focus()
        page.keyboard.press("Space")
        page.get_by_role("button", name="Make this choice").press("Enter")
        page.wait_for_load_state()
        page.get_by_role("link", name="Continue").or_(
            page.get_by_role("link", name="See how you did")
        ).click()
        page.wait_for_load_state()


def test_recruit_works_through_a_module_with_its_scenario(page, demo) -> None:  # noqa: ANN001
    course = CoursePage.objects.get(slug="public-health-approach")
    module = ModulePage.objects.child_of(course).first()
    lessons = list(LessonPage.objects.child_of(module).live().order_by("path"))
    sign_in(page, "recruit@demo.police.uk")

    page.get_by_role("link", name="My learning").first.click()
    page.get_by_role("link", name=course.title).first.click()
    page.get_by_role("link", name="Start the course").click()
    assert page.locator("h1").inner_text() == lessons[0].title
    if page.get_by_role("link", name="Continue to the lesson").count():
        page.get_by_role("link", name="Continue to the lesson").click()
    answer_checks(page)
    page.get_by_role("button", name="Mark as complete").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == lessons[1].title

    # Leave, come back: Continue lands on the next unfinished lesson.
    sign_out(page)
    sign_in(page, "recruit@demo.police.uk")
    page.goto("/learning/")
    assert "1 of" in page.inner_text("main")
    page.get_by_role("link", name=f"Continue {course.title}").first.click()
    assert page.locator("h1").inner_text() == lessons[1].title

    for _ in lessons[1:-1]:
        if page.get_by_role("link", name="Continue to the lesson").count():
            page.get_by_role("link", name="Continue to the lesson").click()
        answer_checks(page)
        page.get_by_role("button", name="Mark as complete").click()
        page.wait_for_load_state()

    # The last lesson holds the module's scenario: fail once, then pass.
    practise = lessons[-1]
    assert page.locator("h1").inner_text() == practise.title
    scenario = Scenario.objects.get(pk=practise.scenario_ids[0])
    played = scenario.to_engine()
    past_warning(page)
    page.get_by_role("button", name="Start the scenario").click()
    play(page, scenario, route_with(played, passed=False))
    assert page.locator("h1").inner_text() == "Not passed"
    page.get_by_role("button", name="Try again").click()
    play(page, scenario, route_with(played, passed=True))
    assert page.locator("h1").inner_text() == "Passed"
    assert "Debrief" in page.inner_text("main")
    page.get_by_role("link", name="Back to the lesson").click()
    answer_checks(page)
    page.get_by_role("button", name="Mark as complete").click()
    page.wait_for_load_state()

    page.goto(course.url)
    module_item = page.locator(".module-list > li").first
    assert "Complete" in module_item.inner_text()
    page.goto("/learning/")
    # Counted against the recruit's own outline (their force's jurisdiction).
    recruit = User.objects.get(email="recruit@demo.police.uk")
    outline = course_outline(course, jurisdiction=officer_jurisdiction(recruit))
    assert f"{len(lessons)} of {len(outline.lessons)} lessons done" in page.inner_text("main")


def test_author_imports_edits_sees_the_map_and_publishes(page, demo, settings, tmp_path) -> None:  # noqa: ANN001
    settings.PATHWAYS_REQUIRE_STAFF_MFA = False
    doc = json.loads((ROOT / "scenarios/demo/possession-stop.json").read_text())
    doc["title"] = "Imported in the browser"
    path = tmp_path / "imported.json"
    path.write_text(json.dumps(doc))
    sign_in(page, "author@demo.police.uk")

    page.goto("/admin/snippets/scenarios/scenario/import/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/edit/*/")
    pk = int(page.url.rstrip("/").split("/")[-1])

    # Break it: the first step no longer exists. The draft saves and lists the problem.
    page.get_by_label("First step").fill("no-such-step")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_load_state()
    assert "Problems to fix before publishing" in page.content()
    page.goto(f"/admin/snippets/scenarios/scenario/map/{pk}/")
    assert page.locator("svg").count() >= 1
    assert "no-such-step" in page.inner_text("main")

    # Publishing is refused while the problem is there; fixed, it publishes.
    page.goto(f"/admin/snippets/scenarios/scenario/edit/{pk}/")
    page.locator("button.dropdown-toggle, [data-w-dropdown-target='toggle']").last.click()
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state()
    assert "cannot be published until these problems are fixed" in page.content()
    page.get_by_label("First step").fill(doc["start"])
    page.locator("button.dropdown-toggle, [data-w-dropdown-target='toggle']").last.click()
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/scenarios/scenario/")
    assert "published" in page.inner_text("body").lower()
    # The editor (and its autosave) is closed now, so the database is quiet.
    scenario = Scenario.objects.get(pk=pk)
    assert scenario.live and scenario.title == "Imported in the browser"


def test_officer_resumes_a_half_done_scenario_after_signing_in_again(page, demo) -> None:  # noqa: ANN001
    lesson = next(p for p in LessonPage.objects.live().order_by("path") if p.scenario_ids)
    scenario = Scenario.objects.get(pk=lesson.scenario_ids[0])
    played = scenario.to_engine()
    first_step = played.step(played.start)
    route = route_with(played, passed=True)
    sign_in(page, "officer@demo.police.uk")
    page.goto(lesson.url)
    past_warning(page)
    page.get_by_role("button", name="Start the scenario").click()
    assert first_step.text.split("\n")[0][:40] in page.inner_text("main")
    play(page, scenario, route[:1])
    second_step = played.step(played.step(route[0][0]).choice(route[0][1]).next)

    sign_out(page)
    sign_in(page, "officer@demo.police.uk")
    page.goto(lesson.url)
    past_warning(page)
    page.get_by_role("link", name="Resume the scenario").click()
    assert second_step.text.split("\n")[0][:40] in page.inner_text("main")
    play(page, scenario, route[1:])
    assert page.locator("h1").inner_text() == "Passed"
