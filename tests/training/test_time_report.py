"""The lead's "Time on lessons" report: medians by unit, fast completions flagged, scoped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from courses.models import Enrolment, LessonCompletion, LessonPage
from tests.factories import make_course, make_officer
from training.matrix import lesson_time_report
from training.rules import completion_too_fast

pytestmark = pytest.mark.usefixtures("no_staff_mfa")


def test_completion_too_fast() -> None:
    assert completion_too_fast(seconds=59, estimate_minutes=4)
    assert not completion_too_fast(seconds=60, estimate_minutes=4)
    assert not completion_too_fast(seconds=None, estimate_minutes=4)


@pytest.fixture
def timed(home, org, learner):  # noqa: ANN001, ANN201
    course = make_course(home, title="Timed course", modules=1, lessons=1)
    lesson = LessonPage.objects.live().descendant_of(course).get()
    LessonPage.objects.filter(pk=lesson.pk).update(duration_minutes=8)
    leith = make_officer(unit=org.leith, first_name="Lena", last_name="Leith")
    learner.first_name, learner.last_name = "Dana", "Dundee"
    learner.save()
    for user, seconds in ((learner, 30), (leith, 600)):
        enrolment = Enrolment.objects.create(user=user, course=course)
        LessonCompletion.objects.create(
            enrolment=enrolment,
            lesson=lesson,
            seconds_spent=seconds,
            completed_at=timezone.now() - timedelta(hours=1),
        )
    return course, lesson


def test_lead_sees_only_their_units(timed, north_lead, east_lead, administrator) -> None:
    north = lesson_time_report(north_lead)
    assert north.units == ["Dundee Response"]
    assert [f.officer for f in north.fast] == ["Dana Dundee"]  # 30 s of an 8-minute lesson
    (course, rows), *_ = north.courses
    assert (
        course.title == "Timed course" and rows[0].by_unit["Dundee Response"].median_seconds == 30
    )

    east = lesson_time_report(east_lead)
    assert east.units == ["Leith Response"] and east.fast == []
    assert set(lesson_time_report(administrator).units) == {"Dundee Response", "Leith Response"}


def test_report_page_for_leads_and_not_learners(timed, north_lead, learner) -> None:
    lead = Client()
    lead.force_login(north_lead)
    body = lead.get("/admin/training/time/").content.decode()
    assert "Time on lessons" in body and "Dana Dundee" in body and "Lena Leith" not in body
    assert "0:30 median" in body
    officer = Client()
    officer.force_login(learner)
    response = officer.get("/admin/training/time/")
    assert response.status_code in (302, 403)
