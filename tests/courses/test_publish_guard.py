"""A lesson placing a draft scenario may be saved, never published: learners could not pass it."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from courses.demo import course_index, grant_author_permissions
from courses.models import LessonPage, ModulePage
from officers.models import Role
from scenarios.models import Scenario
from scenarios.services import scenario_import, scenario_publish
from tests.factories import make_course, make_officer
from tests.scenarios.conftest import document

MESSAGE = "The scenario “Night shift” is not published"


@pytest.fixture
def author(org, home, no_staff_mfa) -> Client:  # noqa: ANN001
    grant_author_permissions(course_index(home))
    client = Client()
    client.force_login(make_officer(unit=org.east, role=Role.AUTHOR))
    return client


@pytest.fixture
def module(home) -> ModulePage:  # noqa: ANN001
    course = make_course(home, title="Guarded", modules=1, lessons=1)
    return ModulePage.objects.child_of(course).get()


@pytest.fixture
def draft_scenario(db) -> Scenario:  # noqa: ANN001
    return scenario_import(raw=json.dumps(document(title="Night shift")))


def lesson_form(scenario_id: int, **actions: str) -> dict:
    body = [
        ("text", rich_text("<p>Before the scenario.</p>")),
        ("scenario", {"scenario": scenario_id}),
    ]
    data = nested_form_data(
        {
            "title": "Guarded lesson",
            "slug": "guarded-lesson",
            "summary": "",
            "duration_minutes": 5,
            "body": streamfield(body),
        }
    )
    data.update(actions)
    return data


def draft_lesson(module: ModulePage, scenario: Scenario) -> LessonPage:
    lesson = LessonPage(
        title="Guarded lesson",
        slug="guarded-lesson",
        body=[{"type": "scenario", "value": {"scenario": scenario.pk}}],
        live=False,
    )
    module.add_child(instance=lesson)
    lesson.save_revision()
    return lesson


def test_the_editor_refuses_to_publish_a_lesson_with_a_draft_scenario(
    author, module, draft_scenario
) -> None:
    url = f"/admin/pages/add/courses/lessonpage/{module.pk}/"
    response = author.post(url, lesson_form(draft_scenario.pk, **{"action-publish": "1"}))
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert not LessonPage.objects.filter(slug="guarded-lesson").exists()


def test_saving_a_draft_with_a_draft_scenario_is_allowed(author, module, draft_scenario) -> None:
    url = f"/admin/pages/add/courses/lessonpage/{module.pk}/"
    response = author.post(url, lesson_form(draft_scenario.pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    lesson = LessonPage.objects.get(slug="guarded-lesson")
    assert not lesson.live

    edit = f"/admin/pages/{lesson.pk}/edit/"
    response = author.post(edit, lesson_form(draft_scenario.pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    lesson.refresh_from_db()
    assert not lesson.live and lesson.has_unpublished_changes


def test_the_editor_publishes_once_the_scenario_is_live(author, module, draft_scenario) -> None:
    lesson = draft_lesson(module, draft_scenario)
    edit = f"/admin/pages/{lesson.pk}/edit/"
    response = author.post(edit, lesson_form(draft_scenario.pk, **{"action-publish": "1"}))
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    lesson.refresh_from_db()
    assert not lesson.live

    scenario_publish(scenario=draft_scenario)
    response = author.post(edit, lesson_form(draft_scenario.pk, **{"action-publish": "1"}))
    assert response.status_code == 302, response.content.decode()[:2000]
    lesson.refresh_from_db()
    assert lesson.live
    assert lesson.scenario_ids == [draft_scenario.pk]
