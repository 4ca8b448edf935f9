"""Playing a scenario: one step per page, the server decides, tampering changes nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from courses.models import LessonPage, ModulePage
from scenarios.models import Attempt, AttemptChoice
from scenarios.services import PlayRefused, attempt_choose, attempt_start, scenario_publish
from tests.factories import add_lesson, make_course, make_officer
from tests.scenarios.conftest import DOC, document


@pytest.fixture
def player(client, learner) -> Client:  # noqa: ANN001
    client.force_login(learner)
    return client


def start(client: Client, scenario, lesson=None):  # noqa: ANN001, ANN201
    data = {"lesson": lesson.pk} if lesson else {}
    response = client.post(f"/scenarios/{scenario.pk}/start/", data)
    assert response.status_code == 302, response.content[:500]
    return Attempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def choose(client: Client, attempt: Attempt, step: str, choice: object):  # noqa: ANN201
    return client.post(
        f"/scenarios/attempts/{attempt.pk}/choose/", {"step": step, "choice": choice}
    )


def snapshot(attempt: Attempt) -> tuple:
    attempt.refresh_from_db()
    return (attempt.current_step, attempt.score, attempt.finished_at, attempt.choices.count())


def test_play_to_a_pass(player, learner, scenario) -> None:
    attempt = start(player, scenario)
    assert attempt.revision_id == scenario.live_revision_id
    page = player.get(f"/scenarios/attempts/{attempt.pk}/").content.decode()
    assert "You find a man slumped" in page
    assert 'type="radio" name="choice" value="c1"' in page  # the choice's id, not its place
    assert 'name="step" value="arrive"' in page
    assert "Decision 1 of up to 2" in page

    response = choose(player, attempt, "arrive", "c1")
    assert response["Location"] == f"/scenarios/attempts/{attempt.pk}/feedback/"
    feedback = player.get(response["Location"]).content.decode()
    assert "Safety first, then help." in feedback and "Continue" in feedback

    choose(player, attempt, "call", "c1")
    result = player.get(f"/scenarios/attempts/{attempt.pk}/").content.decode()
    assert "Passed" in result
    assert "100%" in result and "5 of 5 points" in result
    assert "You stayed and handed over." in result  # the debrief
    assert "Safety first, then help." in result and "Naloxone wears off." in result  # the path
    attempt.refresh_from_db()
    assert (attempt.passed, attempt.percent, attempt.outcome) == (True, 100, "pass")
    assert list(attempt.choices.values_list("step", "choice_id", "choice_index")) == [
        ("arrive", "c1", 0),
        ("call", "c1", 0),
    ]


def test_low_score_and_critical_choices_fail(player, scenario) -> None:
    attempt = start(player, scenario)
    choose(player, attempt, "arrive", "c3")  # 0 points
    choose(player, attempt, "call", "c1")  # 3 points: 60% < 80%
    attempt.refresh_from_db()
    assert (attempt.passed, attempt.percent, attempt.outcome) == (False, 60, "pass")
    assert "Not passed" in player.get(f"/scenarios/attempts/{attempt.pk}/").content.decode()

    again = start(player, scenario)
    assert again.pk != attempt.pk  # retry starts a new attempt
    choose(player, again, "arrive", "c2")
    again.refresh_from_db()
    assert again.passed is False and again.critical
    page = player.get(f"/scenarios/attempts/{again.pk}/").content.decode()
    assert "unsafe (critical) choice" in page


def test_critical_choice_fails_even_with_full_marks(player, db) -> None:
    from tests.scenarios.conftest import publish_document

    doc = document()
    doc["steps"][0]["choices"][0]["critical"] = True  # the best path is now unsafe...
    doc["steps"][0]["choices"].append(
        {"text": "Safe but slow", "next": "call", "points": 2, "feedback": "ok"}
    )
    scenario = publish_document(doc)
    attempt = start(player, scenario)
    choose(player, attempt, "arrive", "c1")
    choose(player, attempt, "call", "c1")
    attempt.refresh_from_db()
    assert attempt.percent == 100 and attempt.passed is False


def test_leaving_and_coming_back_resumes(player, learner, scenario) -> None:
    attempt = start(player, scenario)
    choose(player, attempt, "arrive", "c1")
    other_device = Client()
    other_device.force_login(learner)
    assert start(other_device, scenario).pk == attempt.pk  # resume, not restart
    page = other_device.get(f"/scenarios/attempts/{attempt.pk}/").content.decode()
    assert "Control says the ambulance" in page


def test_replayed_or_double_submitted_choice_changes_nothing(player, scenario) -> None:
    attempt = start(player, scenario)
    assert choose(player, attempt, "arrive", "c1").status_code == 302
    before = snapshot(attempt)
    response = choose(player, attempt, "arrive", "c1")  # the same form again (second tab)
    assert response.status_code == 409
    assert "already answered" in response.content.decode()
    assert snapshot(attempt) == before


def test_choice_not_on_the_current_step_is_refused(player, scenario) -> None:
    attempt = start(player, scenario)
    before = snapshot(attempt)
    assert choose(player, attempt, "call", "c1").status_code == 409  # a later step
    assert choose(player, attempt, "good-end", "c1").status_code == 409
    assert snapshot(attempt) == before


@pytest.mark.parametrize("bad", ["0", "1", "7", "-1", "one", "", "1.5", "c9", "C1", " c1"])
def test_bad_choice_values_are_refused(player, scenario, bad: str) -> None:
    """A position (what the form used to post), an unknown id, anything else: a clear 400, and
    nothing changes."""
    attempt = start(player, scenario)
    before = snapshot(attempt)
    response = choose(player, attempt, "arrive", bad)
    assert response.status_code == 400
    body = response.content.decode()
    assert "not one of the options" in body or "Choose one of the options" in body
    assert "You find a man slumped" in body  # the step again, to choose properly
    assert snapshot(attempt) == before


@pytest.mark.parametrize("bad", [0, 1, None, True, 2.0])
def test_the_service_refuses_anything_but_an_id(learner, scenario, bad: object) -> None:
    attempt = attempt_start(user=learner, scenario_id=scenario.pk)
    before = snapshot(attempt)
    with pytest.raises(PlayRefused) as caught:
        attempt_choose(user=learner, attempt_id=attempt.pk, step="arrive", choice=bad)
    assert caught.value.status == 400
    assert snapshot(attempt) == before


def test_missing_choice_shows_the_step_again_with_a_message(player, scenario) -> None:
    attempt = start(player, scenario)
    response = player.post(f"/scenarios/attempts/{attempt.pk}/choose/", {"step": "arrive"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose one of the options" in body and "You find a man slumped" in body


def test_choice_on_a_finished_attempt_is_refused(player, scenario) -> None:
    attempt = start(player, scenario)
    choose(player, attempt, "arrive", "c2")
    before = snapshot(attempt)
    response = choose(player, attempt, "bad-end", "c1")
    assert response.status_code == 409
    assert "finished" in response.content.decode()
    assert snapshot(attempt) == before


def test_another_officers_attempt_is_not_found(player, scenario, org) -> None:
    attempt = start(player, scenario)
    other = make_officer(unit=org.leith)
    intruder = Client()
    intruder.force_login(other)
    before = snapshot(attempt)
    assert intruder.get(f"/scenarios/attempts/{attempt.pk}/").status_code == 404
    assert intruder.get(f"/scenarios/attempts/{attempt.pk}/feedback/").status_code == 404
    assert choose(intruder, attempt, "arrive", "c1").status_code == 404
    assert snapshot(attempt) == before


def test_anonymous_and_csrf_and_get(scenario, learner) -> None:
    anonymous = Client()
    assert anonymous.post(f"/scenarios/{scenario.pk}/start/")["Location"].startswith(
        "/accounts/login/"
    )
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)
    assert strict.post(f"/scenarios/{scenario.pk}/start/").status_code == 403
    assert strict.get(f"/scenarios/{scenario.pk}/start/").status_code == 405
    assert not Attempt.objects.exists()


def test_unpublished_scenario_cannot_be_started(player, scenario) -> None:
    scenario.unpublish()
    response = player.post(f"/scenarios/{scenario.pk}/start/")
    assert response.status_code == 404
    assert not Attempt.objects.exists()


def test_attempt_keeps_the_revision_it_started_on(player, scenario) -> None:
    attempt = start(player, scenario)
    choose(player, attempt, "arrive", "c1")
    # The author rewrites the scenario: "call" disappears, and publishes.
    doc = document()
    for choice in doc["steps"][0]["choices"]:
        if choice["next"] == "call":
            choice["next"] = "good-end"
    doc["steps"] = [s for s in doc["steps"] if s["key"] != "call"]
    scenario.steps = json.loads(json.dumps(_stream(doc)))
    scenario.save_revision()
    scenario_publish(scenario=scenario)
    # The attempt in progress carries on, on its own revision.
    page = player.get(f"/scenarios/attempts/{attempt.pk}/").content.decode()
    assert "Control says the ambulance" in page
    choose(player, attempt, "call", "c1")
    attempt.refresh_from_db()
    assert attempt.passed is True
    # A new attempt uses the new revision.
    fresh = start(player, scenario)
    assert fresh.revision_id != attempt.revision_id


def _stream(doc: dict) -> list:
    from scenarios import engine
    from scenarios.mapping import stream_from_scenario

    return stream_from_scenario(engine.parse_document(doc))


# ------------------------------------------------------------ in a lesson, for completion


@pytest.fixture
def lesson_with_scenario(home, scenario):  # noqa: ANN001, ANN201
    course = make_course(home, title="Overdose", modules=1, lessons=1)
    module = ModulePage.objects.child_of(course).get()
    lesson = add_lesson(
        module,
        "Practise",
        slug="practise",
        body=[
            {"type": "text", "value": "<p>Try it.</p>"},
            {"type": "scenario", "value": {"scenario": scenario.pk}},
        ],
    )
    return course, LessonPage.objects.get(pk=lesson.pk)


def mark_complete(client: Client, lesson: LessonPage) -> bool:
    """Whether `courses` accepted the lesson as complete. It refuses with a 409 page or with a
    redirect back to the lesson carrying the reason as a message; `courses` decides which."""
    response = client.post(f"/learning/lessons/{lesson.pk}/complete/")
    if response.status_code == 409:
        return False
    assert response.status_code == 302, response.status_code
    return not response["Location"].startswith(lesson.url)


def test_passing_the_scenario_counts_toward_completion(player, lesson_with_scenario) -> None:
    course, lesson = lesson_with_scenario
    assert lesson.scenario_ids == [lesson.body[1].value["scenario"].pk]
    first = LessonPage.objects.live().descendant_of(course).order_by("path").first()
    player.post(f"/learning/lessons/{first.pk}/complete/")
    page = player.get(lesson.url).content.decode()
    assert "Start the scenario" in page and "Mark as complete" not in page
    assert not mark_complete(player, lesson)
    response = player.post(f"/learning/lessons/{lesson.pk}/complete/", follow=True)
    assert "Pass the scenario" in response.content.decode()

    attempt = start(player, lesson.body[1].value["scenario"], lesson)
    choose(player, attempt, "arrive", "c1")
    assert "Resume the scenario" in player.get(lesson.url).content.decode()
    choose(player, attempt, "call", "c1")
    result = player.get(f"/scenarios/attempts/{attempt.pk}/").content.decode()
    # Back to the scenario in the lesson, past the content warning accepted to start it.
    scenario_id = lesson.body[1].value["scenario"].pk
    assert f'href="{lesson.url}?warning=accepted#scenario-{scenario_id}"' in result
    # The result page offers to complete the lesson in one step.
    assert "Mark the lesson complete and continue" in result
    assert f'action="/learning/lessons/{lesson.pk}/complete/"' in result
    page = player.get(lesson.url).content.decode()
    assert "Passed" in page and "Mark as complete" in page
    response = player.post(f"/learning/lessons/{lesson.pk}/complete/")
    assert response.status_code == 302
    assert response["Location"] == course.url  # the course is complete


def test_a_refresher_needs_the_scenario_passed_again(player, learner, lesson_with_scenario) -> None:
    course, lesson = lesson_with_scenario
    scenario = lesson.body[1].value["scenario"]
    attempt = start(player, scenario, lesson)
    choose(player, attempt, "arrive", "c1")
    choose(player, attempt, "call", "c1")
    for page in LessonPage.objects.live().descendant_of(course).order_by("path"):
        assert player.post(f"/learning/lessons/{page.pk}/complete/").status_code == 302
    player.post(f"/learning/courses/{course.pk}/start/")  # refresher
    first = LessonPage.objects.live().descendant_of(course).order_by("path").first()
    player.post(f"/learning/lessons/{first.pk}/complete/")
    assert not mark_complete(player, lesson)
    again = start(player, scenario, lesson)
    choose(player, again, "arrive", "c1")
    choose(player, again, "call", "c1")
    assert mark_complete(player, lesson)
    assert AttemptChoice.objects.filter(attempt__user=learner).count() == 4


def test_document_fixture_is_valid() -> None:
    from scenarios import engine

    assert engine.validate(engine.parse_document(DOC)) == []
