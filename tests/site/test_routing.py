"""The home page finds a page by its URL path in one lookup (pathways.models.HomePage.route).
It must answer exactly as Wagtail's walk down the tree does, for every page and for paths that
name nothing: the same page, or a 404."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wagtail.models import Page

from courses.models import LessonPage, ModulePage
from tests.factories import make_course


def walk(home: Page, components: list[str]) -> Page | None:
    """Wagtail's own answer."""
    try:
        return Page.route(home, RequestFactory().get("/"), components).page
    except Http404:
        return None


def fast(home: Page, components: list[str]) -> Page | None:
    try:
        return home.route(RequestFactory().get("/"), components).page
    except Http404:
        return None


@pytest.fixture
def tree(home):  # noqa: ANN001, ANN201
    course = make_course(home, title="Routing", modules=2, lessons=2)
    # A draft lesson, and a live lesson under a module that has been unpublished.
    draft = LessonPage.objects.descendant_of(course).order_by("path").first()
    draft.unpublish()
    module = ModulePage.objects.child_of(course).order_by("path").last()
    module.unpublish()
    return home.specific


def test_every_page_routes_as_wagtail_routes_it(tree) -> None:  # noqa: ANN001
    home = tree
    pages = Page.objects.descendant_of(home)
    assert pages.count() >= 8
    for page in pages:
        components = [c for c in page.url_path[len(home.url_path) :].split("/") if c]
        expected = walk(home, components)
        got = fast(home, components)
        assert (got and got.pk) == (expected and expected.pk), page.url_path
        if got is not None:
            assert type(got) is type(expected)  # the specific page


@pytest.mark.parametrize(
    "suffix", [["nope"], ["extra", "segments"], [""], ["..", "x"], ["%2F"], ["a" * 300]]
)
def test_paths_that_name_nothing_are_404s(tree, suffix) -> None:  # noqa: ANN001
    home = tree
    lesson = LessonPage.objects.live().first()
    base = [c for c in lesson.url_path[len(home.url_path) :].split("/") if c]
    for components in (suffix, [*base, *suffix], [*base[:1], *suffix]):
        assert fast(home, components) is None
        assert walk(home, components) is None


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", max_size=12), max_size=5)
)
def test_any_path_gets_the_same_answer(tree, components) -> None:  # noqa: ANN001
    home = tree
    got, expected = fast(home, components), walk(home, components)
    assert (got and got.pk) == (expected and expected.pk)
