"""Course settings and lesson answers at and beyond their limits: refused clearly, never a 500.

A validity of 100,000 months or a refresher window of 3,000,000 days used to save in the admin
and then break every completion of the course on a date overflow.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from wagtail.test.utils.form_data import nested_form_data

from certificates.models import Certificate
from certificates.rules import add_months
from courses.demo import course_index, grant_author_permissions
from courses.models import CheckAnswer, CoursePage, LessonCompletion, LessonPage, ModulePage
from officers.models import Role
from tests.certificates.conftest import complete_course
from tests.factories import add_lesson, make_course, make_officer


@pytest.fixture
def author(org, home, no_staff_mfa) -> Client:  # noqa: ANN001
    grant_author_permissions(course_index(home))
    client = Client()
    client.force_login(make_officer(unit=org.east, role=Role.AUTHOR))
    return client


@pytest.fixture
def course(home) -> CoursePage:  # noqa: ANN001
    return make_course(
        home, title="Naloxone", modules=1, lessons=1, validity_months=12, refresher_window_days=60
    )


def course_form(course: CoursePage, **overrides: object) -> dict:
    """The admin edit form of the course as it stands, with `overrides`."""
    data = {
        "title": course.title,
        "slug": course.slug,
        "summary": course.summary,
        "audience": course.audience,
        "duration_minutes": course.duration_minutes,
        "jurisdiction": course.jurisdiction,
        "validity_months": course.validity_months or "",
        "refresher_window_days": course.refresher_window_days,
        "signatory_name": course.signatory_name,
        "signatory_role": course.signatory_role,
        "signatory_image": "",
        "assessment_question_count": course.assessment_question_count,
        "assessment_pass_mark": course.assessment_pass_mark,
        "assessment_max_attempts": course.assessment_max_attempts,
        "assessment_cooldown_hours": course.assessment_cooldown_hours,
        "action-publish": "1",
    }
    data.update(overrides)
    return nested_form_data(data)


def edit(author: Client, course: CoursePage, **overrides: object):  # noqa: ANN201
    return author.post(f"/admin/pages/{course.pk}/edit/", course_form(course, **overrides))


@pytest.mark.parametrize(
    ("validity", "window", "message"),
    [
        (100_000, 60, "can be valid for at most 240 months"),
        (241, 60, "can be valid for at most 240 months"),
        (0, 0, "valid for at least 1 month"),
        (-1, 0, "greater than or equal to 0"),
        (12, 3_000_000, "can be at most 3650 days"),
        (12, 3651, "can be at most 3650 days"),
        (12, -1, "greater than or equal to 0"),
        (12, 336, "shorter than the validity: fewer than 336 days"),
        (1, 28, "shorter than the validity: fewer than 28 days"),
        (1, 60, "shorter than the validity: fewer than 28 days"),
        ("", 3_000_000, "can be at most 3650 days"),
        (2**40, 2**40, "can be valid for at most 240 months"),
    ],
)
def test_the_admin_refuses_validity_and_windows_out_of_bounds_and_changes_nothing(
    author: Client, course: CoursePage, validity: object, window: int, message: str
) -> None:
    revisions = course.revisions.count()
    response = edit(author, course, validity_months=validity, refresher_window_days=window)
    assert response.status_code == 200
    assert message in response.content.decode()
    course.refresh_from_db()
    assert (course.validity_months, course.refresher_window_days) == (12, 60)
    assert course.revisions.count() == revisions


@pytest.mark.parametrize(
    ("validity", "window"), [(240, 3650), (1, 27), (1, 0), (12, 335), ("", 3650), ("", 0)]
)
def test_the_admin_accepts_validity_and_windows_at_the_bounds(
    author: Client, course: CoursePage, validity: object, window: int
) -> None:
    response = edit(author, course, validity_months=validity, refresher_window_days=window)
    assert response.status_code == 302, response.content.decode()[:2000]
    course.refresh_from_db()
    assert course.validity_months == (validity or None)
    assert course.refresher_window_days == window


@pytest.mark.parametrize(("validity", "window"), [(240, 3650), (1, 27), (1, 0), (None, 3650)])
def test_completion_issues_a_certificate_at_the_bounds(
    client: Client, learner, home, validity: int | None, window: int
) -> None:  # noqa: ANN001
    course = make_course(
        home,
        title="Bounds",
        modules=1,
        lessons=1,
        validity_months=validity,
        refresher_window_days=window,
    )
    client.force_login(learner)
    complete_course(client, course)
    certificate = Certificate.objects.get(user=learner, course=course)
    today = timezone.localdate()
    if validity is None:
        assert certificate.expires_on is None and certificate.refresher_from is None
    else:
        assert certificate.expires_on == add_months(today, validity)
        assert today < certificate.refresher_from <= certificate.expires_on
    assert certificate.state(today) == "valid"


# Text that str.isdigit() accepts but int() refuses, reads as a number or cannot hold.
ODD_ANSWERS = ["²", "١", "𝟙", "9" * 5000, "99999999999999999999999", "-1", "0\x00", ""]


@pytest.mark.parametrize("answer", ODD_ANSWERS)
def test_a_lesson_question_refuses_answers_that_are_not_its_option_ids(
    client: Client, learner, course: CoursePage, answer: str
) -> None:  # noqa: ANN001
    module = ModulePage.objects.child_of(course).get()
    question = {
        "prompt": "Who leads on drug harm?",
        "multiple": False,
        "options": [
            {"text": "The police", "correct": False, "feedback": "Police contribute."},
            {"text": "Partnerships", "correct": True, "feedback": "ADPs and the NHS."},
        ],
    }
    body = [{"type": "question", "value": question}]
    lesson = add_lesson(module, "Partners", slug="partners", body=body)
    block = LessonPage.objects.get(pk=lesson.pk).body[0]
    right = block.value["options"].bound_blocks[1].id
    url = f"/learning/lessons/{lesson.pk}/check/"
    client.force_login(learner)

    # An odd value alone, or beside a real option id: refused with a message, nothing kept.
    for chosen in ([answer], [answer, right]):
        response = client.post(url, {"question": block.id, "chosen": chosen}, follow=True)
        assert response.status_code == 200
        page = response.content.decode()
        assert "There is a problem" in page and "Who leads on drug harm?" in page
        assert "ADPs and the NHS." not in page and "Police contribute." not in page
    assert not CheckAnswer.objects.exists()

    client.post(url, {"question": block.id, "chosen": [right]})
    page = client.get(lesson.url).content.decode()
    assert "ADPs and the NHS." in page and "Police contribute." not in page
    assert not LessonCompletion.objects.exists()
