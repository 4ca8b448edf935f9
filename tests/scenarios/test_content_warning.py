"""A scenario's content warning: in the file format (version 2), the stored scenario, the editor
and the lesson that places it, shown before the officer starts."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from courses.models import LessonPage, ModulePage
from scenarios import engine
from scenarios.services import scenario_export, scenario_import, scenario_publish
from tests.factories import make_course, make_officer, make_unit
from tests.scenarios.conftest import DOC

WARNING = "Describes an opioid overdose and a man who stops breathing."


def version_2(**extra: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    doc["format"] = engine.FORMAT
    doc.update(extra)
    return doc


def test_a_warning_is_read_and_written_back() -> None:
    scenario = engine.parse_document(version_2(content_warning=WARNING))
    assert scenario.content_warning == WARNING
    document = engine.to_document(scenario)
    assert document["content_warning"] == WARNING
    assert engine.parse_document(document) == scenario


def test_without_a_warning_the_file_has_no_key() -> None:
    scenario = engine.parse_document(version_2())
    assert scenario.content_warning == ""
    assert "content_warning" not in engine.to_document(scenario)


def test_version_1_files_may_not_use_the_key() -> None:
    doc = copy.deepcopy(DOC)
    doc["content_warning"] = WARNING
    with pytest.raises(engine.ScenarioInvalid) as caught:
        engine.parse_document(doc)
    assert 'Unknown key "content_warning"' in str(caught.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (7, '"content_warning" must be text'),
        ("x" * (engine.MAX_WARNING + 1), "the limit is 500"),
        ("<b>Overdose</b>", "must be plain text"),
        ("Overdose\x07", "control characters"),
    ],
)
def test_a_bad_warning_is_refused_with_a_message(value: object, message: str) -> None:
    with pytest.raises(engine.ScenarioInvalid) as caught:
        engine.parse_document(version_2(content_warning=value))
    assert message in str(caught.value)


@given(st.text(max_size=engine.MAX_WARNING))
def test_any_warning_either_round_trips_or_is_refused(text: str) -> None:
    try:
        scenario = engine.parse_document(version_2(content_warning=text))
    except engine.ScenarioInvalid:
        return
    assert engine.parse_json(json.dumps(engine.to_document(scenario))) == scenario


def test_import_stores_it_and_export_gives_it_back(db) -> None:  # noqa: ANN001
    scenario = scenario_import(raw=json.dumps(version_2(content_warning=WARNING)))
    assert scenario.content_warning == WARNING
    assert scenario.to_engine().content_warning == WARNING
    assert scenario_export(scenario=scenario, live=False)["content_warning"] == WARNING


def test_the_lesson_shows_it_before_the_start_escaped(db, home) -> None:  # noqa: ANN001
    scenario = scenario_import(raw=json.dumps(version_2(content_warning="Overdose & death.")))
    scenario_publish(scenario=scenario)
    course = make_course(home, title="Warned", modules=1, lessons=1)
    lesson = LessonPage.objects.descendant_of(ModulePage.objects.child_of(course).get()).get()
    lesson.body = [("scenario", {"scenario": scenario})]
    lesson.save_revision().publish()
    officer = make_officer(unit=make_unit("A force"))
    client = Client()
    client.force_login(officer)
    body = client.get(lesson.url, follow=True).content.decode()
    assert "Content warning:" in body
    assert "Overdose &amp; death." in body
    assert body.index("Overdose &amp; death.") < body.index("Start the scenario")
