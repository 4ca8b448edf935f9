from __future__ import annotations

import pytest
from django.test import Client

from courses.models import CoursePage, Enrolment, LessonPage
from tests.factories import make_course


def complete_course(client: Client, course: CoursePage) -> None:
    for lesson in LessonPage.objects.live().descendant_of(course).order_by("path"):
        assert client.post(f"/learning/lessons/{lesson.pk}/complete/").status_code == 302


@pytest.fixture
def course(home):  # noqa: ANN001, ANN201
    return make_course(
        home,
        title="Naloxone refresher",
        modules=1,
        lessons=2,
        validity_months=12,
        refresher_window_days=60,
        signatory_name="Chief Inspector Ada Lovelace",
        signatory_role="Head of Training",
    )


@pytest.fixture
def certified(client, learner, course, django_capture_on_commit_callbacks):  # noqa: ANN001, ANN201
    """The learner, signed in, who has completed the course (and whose PDF was rendered)."""
    from certificates.models import Certificate

    client.force_login(learner)
    with django_capture_on_commit_callbacks(execute=True):
        complete_course(client, course)
    return Certificate.objects.get(enrolment=Enrolment.objects.get(user=learner))
