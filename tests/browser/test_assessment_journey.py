"""A recruit finishes the demo course's lessons, fails the final assessment, passes it at the
second try, by keyboard only, and gets the certificate with the score on it."""

from __future__ import annotations

import pytest

from certificates.models import Certificate
from courses.models import AssessmentAttempt, BankQuestion, CoursePage, LessonPage
from officers.models import User
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.browser


def _finish_lessons_on_the_server(email: str, course: CoursePage) -> None:
    """The lessons are other journeys' subject (test_journeys, test_certificate_journey): here
    their completions and scenario passes are recorded directly."""
    from courses.models import Enrolment, LessonCompletion
    from scenarios.models import Scenario

    user = User.objects.get(email=email)
    enrolment = Enrolment.objects.create(user=user, course=course)
    for lesson in LessonPage.objects.live().descendant_of(course).order_by("path"):
        for scenario_id in lesson.scenario_ids:
            record_scenario_pass(user, Scenario.objects.get(pk=scenario_id), lesson)
        LessonCompletion.objects.create(enrolment=enrolment, lesson=lesson)


def record_scenario_pass(user: User, scenario, lesson: LessonPage) -> None:  # noqa: ANN001
    """A finished, passed attempt, as the player records one (playing is another journey)."""
    from django.utils import timezone

    from scenarios.models import Attempt

    Attempt.objects.create(
        user=user,
        scenario=scenario,
        revision_id=scenario.live_revision_id,
        lesson=lesson,
        current_step="end",
        finished_at=timezone.now(),
        percent=100,
        passed=True,
    )


def answer_assessment(page, *, right: bool) -> None:  # noqa: ANN001
    """Answer every question with the keyboard: Tab to each option to tick, Space, then Enter
    on the button. `right`: all correct, or all wrong."""
    attempt = AssessmentAttempt.objects.filter(submitted_at__isnull=True).latest("started_at")
    for answer in attempt.answers.order_by("position"):
        page.wait_for_load_state()
        question = BankQuestion.objects.get(pk=answer.question_id)
        correct = {c.id for c in question.options if c.value["correct"]}
        wanted = (
            [i for i in answer.option_order if i in correct]
            if right
            else [next(i for i in answer.option_order if i not in correct)]
        )
        for option_id in wanted:
            page.locator(f"#answer-{option_id}").focus()
            page.keyboard.press("Space")
        page.keyboard.press("Tab")
        button = page.get_by_role("button", name="Next question").or_(
            page.get_by_role("button", name="Save and check your answers")
        )
        with page.expect_navigation():
            button.press("Enter")
    assert page.locator("h1").inner_text() == "Check your answers"
    page.get_by_role("button", name="Submit").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def pass_final_assessment(page, course: CoursePage) -> None:  # noqa: ANN001
    """From the course page with every lesson done: start the assessment and pass it."""
    page.goto(course.url)
    with page.expect_navigation():
        page.get_by_role("button", name="Start the final assessment").press("Enter")
    answer_assessment(page, right=True)
    assert page.locator("h1").inner_text() == "Passed"


@pytest.fixture
def demo_courses(transactional_db, live_server, monkeypatch) -> None:  # noqa: ANN001
    """The demo, without the leads' training data, which this journey does not need (and whose
    seeding plays scenarios through an API that is changing under other work)."""
    import pathways.demo

    monkeypatch.setattr(pathways.demo, "seed_demo_training", lambda **kwargs: None)
    pathways.demo.load_demo()


def test_recruit_fails_then_passes_the_final_assessment(page, demo_courses) -> None:  # noqa: ANN001
    course = CoursePage.objects.get(slug="public-health-approach")
    _finish_lessons_on_the_server("recruit@demo.police.uk", course)
    sign_in(page, "recruit@demo.police.uk")
    page.goto(course.url)

    with page.expect_navigation():
        page.get_by_role("button", name="Start the final assessment").press("Enter")
    # An empty answer: the error summary, nothing recorded.
    with page.expect_navigation():
        page.get_by_role("button", name="Next question").press("Enter")
    assert "There is a problem" in page.inner_text("main")
    answer_assessment(page, right=False)
    assert page.locator("h1").inner_text() == "Not passed"
    assert "attempt" in page.inner_text("main") and "left before a pause" in page.inner_text("main")

    with page.expect_navigation():
        page.get_by_role("button", name="Try the final assessment again").press("Enter")
    answer_assessment(page, right=True)
    assert page.locator("h1").inner_text() == "Passed"
    assert "100%" in page.inner_text("main")
    page.get_by_role("link", name="Go to My learning and your certificate").press("Enter")
    page.wait_for_load_state()
    certificate = Certificate.objects.get(user__email="recruit@demo.police.uk", course=course)
    assert certificate.assessment_percent == 100
    assert certificate.number in page.inner_text("main") or course.title in page.inner_text("main")
    page.goto(certificate.verify_path())
    assert "Final assessment" in page.inner_text("main") and "100%" in page.inner_text("main")
