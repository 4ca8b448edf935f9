"""The demo learner signs in through the real pages in Chromium."""

from __future__ import annotations

import pytest

from pathways.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_demo_learner_signs_in_and_out(page, demo) -> None:  # noqa: ANN001
    page.goto("/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Email").fill("recruit@demo.police.uk")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/")
    assert "You are signed in as Aisha" in page.inner_text("main")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Sign in").first.is_visible()


def test_wrong_password_is_refused_in_the_browser(page, demo) -> None:  # noqa: ANN001
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("recruit@demo.police.uk")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign In").click()
    assert "not correct" in page.inner_text("main")


def test_skip_link_is_the_first_tab_stop(page, demo) -> None:  # noqa: ANN001
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
