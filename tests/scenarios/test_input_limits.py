"""Ids typed into URLs and forms: whatever the text, a clear answer and never a 500.

`officers.params.parse_id` is the one parser; the scenario player, the lesson questions
(tests/courses/test_input_limits.py) and the completion matrix use it.
"""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from courses.models import LessonPage
from officers.params import MAX_ID, parse_id
from scenarios.models import Attempt
from tests.factories import make_course

# Text that str.isdigit() accepts but is not an id: other scripts' digits, superscripts, an
# id larger than any column, and one longer than Python will convert to an int.
NOT_IDS = ["999999999999999999999", "١٢٣", "²", "12²", "𝟙", "9" * 5000, "-1", " 1", "1.0", ""]


@given(st.integers(min_value=0, max_value=MAX_ID))
def test_parse_id_reads_every_id_in_range(value: int) -> None:
    assert parse_id(str(value)) == value
    assert parse_id(f"00{value}") == value


@given(st.integers(min_value=MAX_ID + 1) | st.integers(max_value=-1))
def test_parse_id_refuses_numbers_out_of_range(value: int) -> None:
    assert parse_id(str(value)) is None


@given(st.text())
def test_parse_id_never_raises_and_reads_only_ascii_digits(text: str) -> None:
    value = parse_id(text)
    if value is not None:
        assert text.isascii() and text.isdigit()
        assert int(text) == value and 0 <= value <= MAX_ID


@pytest.mark.parametrize("text", [*NOT_IDS, None, 12, "1\x00"])
def test_parse_id_refuses_what_is_not_an_id(text: object) -> None:
    assert parse_id(text) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("lesson", NOT_IDS)
def test_starting_a_scenario_with_a_bad_lesson_id_starts_it_without_a_lesson(
    client: Client, learner, scenario, lesson: str
) -> None:  # noqa: ANN001
    client.force_login(learner)
    response = client.post(f"/scenarios/{scenario.pk}/start/", {"lesson": lesson})
    assert response.status_code == 302
    attempt = Attempt.objects.get(user=learner)
    assert attempt.lesson_id is None


def test_starting_a_scenario_with_a_real_lesson_id_keeps_it(
    client: Client, learner, scenario, home
) -> None:  # noqa: ANN001
    course = make_course(home, title="Stairs", modules=1, lessons=1)
    lesson = LessonPage.objects.descendant_of(course).get()
    client.force_login(learner)
    client.post(f"/scenarios/{scenario.pk}/start/", {"lesson": str(lesson.pk)})
    assert Attempt.objects.get(user=learner).lesson_id == lesson.pk


@pytest.mark.parametrize("unit", NOT_IDS[:-1])
def test_the_matrix_answers_a_bad_unit_like_no_unit(
    client: Client, org, north_lead, no_staff_mfa, unit: str
) -> None:  # noqa: ANN001
    client.force_login(north_lead)
    response = client.get("/admin/training/matrix/", {"unit": unit})
    assert response.status_code == 302
    assert response["Location"] == "/admin/training/matrix/"


def test_the_matrix_answers_an_unknown_unit_with_404(
    client: Client, org, north_lead, no_staff_mfa
) -> None:  # noqa: ANN001
    client.force_login(north_lead)
    assert client.get("/admin/training/matrix/", {"unit": str(MAX_ID)}).status_code == 404
    assert client.get("/admin/training/matrix/", {"unit": org.north.pk}).status_code == 200
