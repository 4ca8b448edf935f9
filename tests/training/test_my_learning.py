"""My learning: courses in progress and completed, assignments, certificates, reminders."""

from __future__ import annotations

import pytest
from django.test import Client

from courses.models import LessonPage
from tests.factories import make_course


@pytest.fixture
def course(home):  # noqa: ANN001, ANN201
    return make_course(home, title="Naloxone basics", modules=2, lessons=2, validity_months=12)


@pytest.fixture
def signed_in(client, learner) -> Client:  # noqa: ANN001
    client.force_login(learner)
    return client


def complete(client: Client, course) -> None:  # noqa: ANN001
    lesson = LessonPage.objects.live().descendant_of(course).order_by("path").first()
    assert client.post(f"/learning/lessons/{lesson.pk}/complete/").status_code == 302


def test_my_learning_needs_sign_in(client) -> None:  # noqa: ANN001
    response = client.get("/learning/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_my_learning_shows_progress_and_completed(signed_in, home, course) -> None:
    other = make_course(home, title="Stigma and language", modules=1, lessons=1)
    complete(signed_in, course)
    complete(signed_in, other)
    body = signed_in.get("/learning/").content.decode()
    assert "Naloxone basics" in body
    assert "1 of 4 lessons done (25%)" in body
    assert 'value="1"' in body and 'max="4"' in body
    assert f'href="/learning/courses/{course.pk}/continue/"' in body
    completed = body.split('id="completed"', 1)[1]
    assert "Stigma and language" in completed
