"""Time on lessons (visits, time to complete, time per answer) and computed durations."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from courses.models import (
    CheckAnswer,
    Enrolment,
    LessonCompletion,
    LessonPage,
    LessonVisit,
    ModulePage,
)
from courses.rules import lesson_minutes
from courses.selectors import course_outline, minutes_for
from tests.factories import add_lesson, make_course
from tests.scenarios.conftest import DOC, publish_document

# --------------------------------------------------------------------------- rules (no db)


def test_lesson_minutes() -> None:
    assert lesson_minutes(words=0) == 1
    assert lesson_minutes(words=200) == 1
    assert lesson_minutes(words=201) == 2
    assert lesson_minutes(words=1000, scenario_decisions=3, questions=2) == 5 + 5 + 2


counts = st.integers(min_value=0, max_value=100_000)


@given(counts, counts, counts, counts)
def test_lesson_minutes_never_falls_as_content_grows(w: int, d: int, q: int, more: int) -> None:
    base = lesson_minutes(words=w, scenario_decisions=d, questions=q)
    assert base >= 1
    assert lesson_minutes(words=w + more, scenario_decisions=d, questions=q) >= base
    assert lesson_minutes(words=w, scenario_decisions=d + more, questions=q) >= base
    assert lesson_minutes(words=w, scenario_decisions=d, questions=q + more) >= base


# ----------------------------------------------------------------------- with the database


@pytest.fixture
def module(home):  # noqa: ANN001, ANN201
    course = make_course(home, title="Timed", modules=1, lessons=0)
    return ModulePage.objects.child_of(course).get()


def test_duration_is_computed_from_the_content(module) -> None:
    words = " ".join(["word"] * 590)
    question = {
        "prompt": "Two words",
        "multiple": False,
        "options": [
            {"text": "yes", "correct": True, "feedback": "f", "pinned": False},
            {"text": "no", "correct": False, "feedback": "f", "pinned": False},
        ],
    }
    lesson = add_lesson(
        module,
        "Long",
        slug="long",
        body=[
            {"type": "text", "value": f"<p>{words}</p>"},
            {"type": "question", "value": question},
        ],
    )
    # 590 + 4 words: 3 minutes of reading, plus 1 for the question.
    assert LessonPage.objects.get(pk=lesson.pk).duration_minutes == 4
    scenario = publish_document(DOC)
    with_scenario = add_lesson(
        module,
        "Practise",
        slug="practise",
        body=[{"type": "scenario", "value": {"scenario": scenario.pk}}],
    )
    assert LessonPage.objects.get(pk=with_scenario.pk).duration_minutes >= 2
    # The course's "about N minutes" is the sum of its live lessons.
    course = module.get_parent().specific
    total = minutes_for([course_outline(course)])[course.pk]
    expected = 4 + LessonPage.objects.get(pk=with_scenario.pk).duration_minutes
    assert total[course.pk] == total[module.pk] == expected


def test_lesson_minutes_follow_a_republished_scenario(module) -> None:
    """A longer route in a new version of the scenario lengthens the lessons that place it."""
    import copy

    from scenarios.services import scenario_publish

    scenario = publish_document(DOC)
    lesson = add_lesson(
        module,
        "Practise",
        slug="practise",
        body=[{"type": "scenario", "value": {"scenario": scenario.pk}}],
    )
    before = LessonPage.objects.get(pk=lesson.pk).duration_minutes
    longer = copy.deepcopy(DOC)
    steps = longer["steps"]
    # Put ten decisions in front of the start, each leading to the next.
    for n in range(10, 0, -1):
        nxt = longer["start"] if n == 10 else f"extra{n + 1}"
        steps.insert(
            0,
            {"key": f"extra{n}", "text": "More.", "choices": [{"text": "On", "next": nxt}]},
        )
    longer["start"] = "extra1"
    from scenarios import engine
    from scenarios.mapping import stream_from_scenario

    scenario.start = longer["start"]
    scenario.steps = stream_from_scenario(engine.parse_document(longer))
    scenario.save_revision()
    scenario_publish(scenario=scenario)
    assert LessonPage.objects.get(pk=lesson.pk).duration_minutes > before


def test_duration_is_not_typed_in(module) -> None:
    from courses.models import CoursePage

    panels = [getattr(p, "field_name", None) for p in LessonPage.content_panels]
    assert "duration_minutes" not in panels
    assert not LessonPage._meta.get_field("duration_minutes").editable
    assert not CoursePage._meta.get_field("duration_minutes").editable


def test_visit_time_to_complete_and_time_per_answer(client: Client, learner, module) -> None:
    question = {
        "prompt": "Q",
        "multiple": False,
        "options": [
            {"text": "yes", "correct": True, "feedback": "f", "pinned": False},
            {"text": "no", "correct": False, "feedback": "f", "pinned": False},
        ],
    }
    lesson = LessonPage.objects.get(
        pk=add_lesson(module, "L", slug="l", body=[{"type": "question", "value": question}]).pk
    )
    block = lesson.body[0]
    right, wrong = (item.id for item in block.value["options"].bound_blocks)
    client.force_login(learner)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get(lesson.url)
    with time_machine.travel(start + timedelta(seconds=5), tick=False):
        client.get(lesson.url)  # a second view keeps the first opening
    assert LessonVisit.objects.get().opened_at == start
    url = f"/learning/lessons/{lesson.pk}/check/"
    with time_machine.travel(start + timedelta(seconds=40), tick=False):
        client.post(url, {"question": block.id, "chosen": [wrong]})
    with time_machine.travel(start + timedelta(seconds=70), tick=False):
        client.get(lesson.url)  # the run started after the visit: not reset
        client.post(url, {"question": block.id, "chosen": [right]})
    assert [a.seconds for a in CheckAnswer.objects.order_by("pk")] == [40, 30]
    with time_machine.travel(start + timedelta(seconds=300), tick=False):
        client.post(f"/learning/lessons/{lesson.pk}/complete/")
    assert LessonCompletion.objects.get().seconds_spent == 300
    assert LessonVisit.objects.get().opened_at == start

    # A refresher: the old visit predates the new run, so the time starts again.
    assert Enrolment.objects.get().is_complete
    with time_machine.travel(start + timedelta(days=30), tick=False):
        client.force_login(learner)  # the session from a month ago has expired
        started = client.post(f"/learning/courses/{lesson.get_parent().get_parent().pk}/start/")
    assert started.status_code == 302, started.content.decode()[-600:]
    assert Enrolment.objects.filter(completed_at__isnull=True).count() == 1
    with time_machine.travel(start + timedelta(days=31), tick=False):
        client.force_login(learner)
        client.get(lesson.url)
    assert LessonVisit.objects.get().opened_at == start + timedelta(days=31)


def test_opening_lessons_together_does_not_hide_a_rushed_completion(
    client: Client, learner, module
) -> None:
    """Open three lessons at once, wait, then complete them in a row: each but the first
    counts the time since the previous completion. A lesson never opened counts 0 s."""
    lessons = [add_lesson(module, f"L{n}", slug=f"l{n}") for n in range(4)]
    client.force_login(learner)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for lesson in lessons[:3]:
            client.get(lesson.url)
    for n, lesson in enumerate(lessons, start=1):
        with time_machine.travel(start + timedelta(seconds=600 + n), tick=False):
            client.post(f"/learning/lessons/{lesson.pk}/complete/")
    spent = dict(LessonCompletion.objects.values_list("lesson_id", "seconds_spent"))
    assert [spent[lesson.pk] for lesson in lessons] == [601, 1, 1, 0]


def test_previewing_records_no_visit(client, module, administrator, no_staff_mfa) -> None:  # noqa: ANN001
    lesson = add_lesson(module, "L", slug="l")
    client.force_login(administrator)
    response = client.get(f"/admin/pages/{lesson.pk}/edit/preview/")
    assert response.status_code in (200, 302, 405)
    assert not LessonVisit.objects.exists()
