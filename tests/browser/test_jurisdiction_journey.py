"""An officer of the England and Wales demo force signs in, completes the demo course (checks
answered, scenarios passed, final assessment passed) without ever being shown the Scottish
Recorded Police Warnings lesson or the Scottish practice scenario, and gets a certificate. Then
a self sign-up is asked for their force, unit and service number before they can learn."""

from __future__ import annotations

import pytest

from certificates.models import Certificate
from courses.models import CoursePage, LessonPage, ModulePage
from officers.models import OfficerProfile, Unit, User
from pathways.demo import DEMO_PASSWORD, EW_FORCE
from scenarios.models import Scenario
from tests.browser.test_assessment_journey import demo_courses, pass_final_assessment
from tests.browser.test_journeys import complete_lesson, sign_in

pytestmark = pytest.mark.browser
__all__ = ["demo_courses"]  # the fixture, used by name below

EW = "england_wales"
SCOTTISH_ONLY = ("scotland-recorded-police-warnings", "practise-possession-stop")


def lessons_for(course: CoursePage, jurisdiction: str) -> list[LessonPage]:
    """The course's lessons an officer of `jurisdiction` takes, in order (an empty audience:
    every jurisdiction)."""
    hidden = [
        m.path
        for m in ModulePage.objects.child_of(course)
        if m.audience and jurisdiction not in m.audience
    ]
    return [
        lesson
        for lesson in LessonPage.objects.live().descendant_of(course).order_by("path")
        if (not lesson.audience or jurisdiction in lesson.audience)
        and not any(lesson.path.startswith(p) for p in hidden)
    ]


def test_an_england_and_wales_officer_never_sees_scottish_content_and_is_certified(
    page, demo_courses
) -> None:  # noqa: ANN001
    course = CoursePage.objects.get(slug="public-health-approach")
    lessons = lessons_for(course, EW)
    titles = {lesson.slug: lesson.title for lesson in LessonPage.objects.descendant_of(course)}
    assert all(slug not in {lesson.slug for lesson in lessons} for slug in SCOTTISH_ONLY)
    assert "england-and-wales-diversion" in {lesson.slug for lesson in lessons}

    sign_in(page, "ew.officer@demo.police.uk")
    page.goto(course.url)
    outline = page.inner_text("main")
    assert titles["england-and-wales-diversion"] in outline
    for slug in SCOTTISH_ONLY:
        assert titles[slug] not in outline, f"the course page shows {titles[slug]!r}"

    page.get_by_role("link", name="Start the course").click()
    seen = []
    for lesson in lessons:
        page.wait_for_load_state()
        seen.append(page.locator("h1").inner_text())
        assert seen[-1] == lesson.title, f"expected {lesson.title!r}, shown {seen[-1]!r}"
        for scenario in Scenario.objects.filter(pk__in=lesson.scenario_ids):
            assert not scenario.audience or EW in scenario.audience
        complete_lesson(page, lesson)
    page.wait_for_load_state()
    assert not {titles[slug] for slug in SCOTTISH_ONLY} & set(seen)

    pass_final_assessment(page, course)
    assert "You have completed the course" in page.inner_text("main")

    page.goto("/learning/")
    row = page.locator("table tbody tr").first
    assert course.title in row.inner_text() and "Valid" in row.inner_text()
    certificate = Certificate.objects.get(user__email="ew.officer@demo.police.uk", course=course)
    assert certificate.service_number == "DC0412"
    assert certificate.force_name == EW_FORCE
    page.goto(certificate.verify_path())
    assert "Valid" in page.locator(".verify-result").inner_text()


def test_a_self_sign_up_gives_force_unit_and_number_before_learning(page, demo_courses) -> None:  # noqa: ANN001
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(email="new.recruit@demo.police.uk", password=DEMO_PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    force = Unit.get_root_nodes().get(name=EW_FORCE)
    team = force.get_descendants().get(name="Central Response")
    other_force_team = Unit.objects.get(name="Dundee Response")

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/account/profile/**")
    assert page.locator("h1").inner_text() == "Your force and unit"

    # A unit in another force and no number: the form again, with an error summary.
    page.get_by_label("Force").select_option(label=EW_FORCE)
    page.get_by_label("Unit").select_option(value=str(other_force_team.pk))
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary").inner_text()
    assert "Dundee Response is not in Demo Constabulary" in summary
    assert "Enter your service number" in summary
    assert not OfficerProfile.objects.filter(user=user).exists()

    page.get_by_label("Unit").select_option(value=str(team.pk))
    page.get_by_label("Service number").fill("DC0412")  # Owen Pritchard's
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_load_state()
    assert "already registered" in page.locator(".error-summary").inner_text()

    page.get_by_label("Service number").fill("DC9001")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_load_state()
    profile = OfficerProfile.objects.get(user=user)
    assert (profile.force, profile.unit, profile.service_number) == (force, team, "DC9001")
    assert "/account/profile/" not in page.url
    page.goto("/learning/")
    assert "/account/profile/" not in page.url
