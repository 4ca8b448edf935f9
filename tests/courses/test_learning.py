"""Learners work through courses: pages, completion, continue, search."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courses.models import (
    CheckAnswer,
    CoursePage,
    Enrolment,
    LessonCompletion,
    LessonPage,
    ModulePage,
)
from courses.signals import course_completed
from tests.factories import add_lesson, make_course, make_officer


@pytest.fixture
def course(home):  # noqa: ANN001, ANN201
    return make_course(home, title="Naloxone basics", modules=2, lessons=2, validity_months=12)


def lessons(course) -> list[LessonPage]:  # noqa: ANN001
    return list(LessonPage.objects.live().descendant_of(course).order_by("path"))


def complete(client: Client, lesson: LessonPage):  # noqa: ANN201
    return client.post(f"/learning/lessons/{lesson.pk}/complete/")


@pytest.fixture
def signed_in(client, learner) -> Client:  # noqa: ANN001
    client.force_login(learner)
    return client


def test_course_pages_need_sign_in(client, course) -> None:
    for url in (course.url, lessons(course)[0].url, "/learning/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_lesson_page_renders_with_mark_complete_form(signed_in, course) -> None:
    lesson = lessons(course)[0]
    body = signed_in.get(lesson.url).content.decode()
    assert "Teaching text for" in body
    assert f'action="/learning/lessons/{lesson.pk}/complete/"' in body
    assert "Lesson 1 of 4" in body
    # Viewing a lesson records nothing.
    assert not LessonCompletion.objects.exists()
    assert not Enrolment.objects.exists()


def test_mark_complete_then_continue_lands_on_the_next_lesson(signed_in, learner, course) -> None:
    first, second, *_ = lessons(course)
    response = complete(signed_in, first)
    assert response.status_code == 302
    assert response["Location"] == f"/learning/courses/{course.pk}/continue/"
    assert signed_in.get(response["Location"])["Location"] == second.url
    enrolment = Enrolment.objects.get(user=learner, course=course)
    assert list(enrolment.lesson_completions.values_list("lesson_id", flat=True)) == [first.pk]
    # Leave and come back: Continue still lands on the next unfinished lesson.
    fresh = Client()
    fresh.force_login(learner)
    assert fresh.get(f"/learning/courses/{course.pk}/continue/")["Location"] == second.url


def test_repeated_completion_changes_nothing_says_why_and_goes_on(signed_in, course) -> None:
    first, second = lessons(course)[:2]
    complete(signed_in, first)
    response = complete(signed_in, first)
    # Pressed twice, or "complete and continue" from a scenario's result: on to the next.
    assert response.status_code == 302
    assert response["Location"] == f"/learning/courses/{course.pk}/continue/"
    page = signed_in.get(signed_in.get(response["Location"])["Location"])
    assert page.request["PATH_INFO"] == second.url
    assert "already marked this lesson complete" in page.content.decode()
    assert LessonCompletion.objects.count() == 1


def test_completion_needs_post_and_csrf(learner, course) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    lesson = lessons(course)[0]
    assert client.get(f"/learning/lessons/{lesson.pk}/complete/").status_code == 405
    assert complete(client, lesson).status_code == 403
    assert not LessonCompletion.objects.exists()


def test_unpublished_or_unknown_lessons_are_invisible(signed_in, course) -> None:
    lesson = lessons(course)[0]
    lesson.unpublish()
    assert signed_in.get(lesson.url).status_code == 404
    response = complete(signed_in, lesson)
    assert response.status_code == 404
    assert "not available" in response.content.decode()
    assert complete(signed_in, LessonPage(pk=999_999)).status_code == 404
    assert not LessonCompletion.objects.exists()


def test_lesson_in_an_unpublished_module_cannot_be_completed(signed_in, course) -> None:
    lesson = lessons(course)[0]
    ModulePage.objects.get(pk=lesson.get_parent().pk).unpublish()
    assert LessonPage.objects.get(pk=lesson.pk).live  # the lesson itself stays live
    assert complete(signed_in, lesson).status_code == 404


def test_completing_the_course_records_time_revision_and_fires_the_hook_once(
    signed_in, learner, course
) -> None:
    received = []

    def receiver(sender, enrolment, **kwargs):  # noqa: ANN001, ANN003, ANN202
        received.append(enrolment)

    course_completed.connect(receiver)
    try:
        for lesson in lessons(course):
            response = complete(signed_in, lesson)
        assert response.status_code == 302
        assert response["Location"] == course.url
        complete(signed_in, lessons(course)[-1])  # a repeat fires nothing
    finally:
        course_completed.disconnect(receiver)
    enrolment = Enrolment.objects.get(user=learner, course=course)
    course.refresh_from_db()
    assert enrolment.completed_at is not None
    assert enrolment.completed_revision_id == course.live_revision_id is not None
    assert [e.pk for e in received] == [enrolment.pk]
    page = signed_in.get(course.url).content.decode()
    assert "Completed" in page and "Start again (refresher)" in page


def test_a_lesson_added_later(signed_in, learner, course, client) -> None:
    for lesson in lessons(course):
        complete(signed_in, lesson)
    # Someone else is half-way through.
    other = make_officer(unit=learner.officer.unit)
    other_client = Client()
    other_client.force_login(other)
    complete(other_client, lessons(course)[0])

    module = ModulePage.objects.child_of(course).last()
    new = add_lesson(module, "New guidance", slug="new-guidance")
    # The officer who completed stays complete.
    assert Enrolment.objects.get(user=learner).completed_at is not None
    assert "Start again (refresher)" in signed_in.get(course.url).content.decode()
    # The officer in progress must do the new lesson too.
    for lesson in lessons(course)[1:-1]:
        complete(other_client, lesson)
    assert Enrolment.objects.get(user=other).completed_at is None
    assert other_client.get(f"/learning/courses/{course.pk}/continue/")["Location"] == new.url
    complete(other_client, new)
    assert Enrolment.objects.get(user=other).completed_at is not None


def test_refresher_starts_a_new_enrolment(signed_in, learner, course) -> None:
    for lesson in lessons(course):
        complete(signed_in, lesson)
    # Nothing to record on a completed course: on to the course page, saying why.
    response = complete(signed_in, lessons(course)[0])
    assert response.status_code == 302
    page = signed_in.get(signed_in.get(response["Location"])["Location"])
    assert page.request["PATH_INFO"] == course.url
    assert "already completed this course" in page.content.decode()
    assert Enrolment.objects.filter(user=learner, course=course).count() == 1
    response = signed_in.post(f"/learning/courses/{course.pk}/start/")
    assert response.status_code == 302
    assert Enrolment.objects.filter(user=learner, course=course).count() == 2
    # Starting twice is refused.
    assert signed_in.post(f"/learning/courses/{course.pk}/start/").status_code == 409
    assert complete(signed_in, lessons(course)[0]).status_code == 302


def test_progress_is_per_officer(signed_in, learner, course, org) -> None:
    complete(signed_in, lessons(course)[0])
    other = make_officer(unit=org.leith)
    c = Client()
    c.force_login(other)
    assert c.get(f"/learning/courses/{course.pk}/continue/")["Location"] == lessons(course)[0].url
    assert "Nothing in progress" in c.get("/learning/").content.decode()


def test_content_warning_comes_first_with_a_choice(signed_in, course) -> None:
    module = ModulePage.objects.child_of(course).first()
    lesson = add_lesson(
        module,
        "Deaths in custody",
        slug="deaths",
        body=[
            {"type": "text", "value": "<p>Hard reading.</p>"},
            {
                "type": "content_warning",
                "value": {"contains": "Descriptions of death.", "support": "Occupational health."},
            },
        ],
    )
    body = signed_in.get(lesson.url).content.decode()
    assert "Descriptions of death." in body and "Hard reading." not in body
    assert 'href="?warning=accepted"' in body
    body = signed_in.get(lesson.url + "?warning=accepted").content.decode()
    assert "Hard reading." in body


def test_check_your_understanding_gives_feedback_and_records_the_try(signed_in, course) -> None:
    module = ModulePage.objects.child_of(course).first()
    question = {
        "prompt": "Who leads on drug harm?",
        "multiple": False,
        "options": [
            {"text": "The police", "correct": False, "feedback": "Police contribute; others lead."},
            {"text": "Partnerships", "correct": True, "feedback": "ADPs, the NHS and councils."},
        ],
    }
    lesson = add_lesson(
        module, "Partners", slug="partners", body=[{"type": "question", "value": question}]
    )
    page = lesson.specific
    block_id = page.body[0].id
    wrong = page.body[0].value["options"].bound_blocks[0].id
    body = signed_in.get(lesson.url).content.decode()
    assert "Who leads on drug harm?" in body and "Police contribute" not in body
    # "Check answer" is a POST (Post/Redirect/Get) that records the try.
    response = signed_in.post(
        f"/learning/lessons/{lesson.pk}/check/", {"question": block_id, "chosen": [wrong]}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"#block-{block_id}")
    body = signed_in.get(lesson.url).content.decode()
    assert "Police contribute; others lead." in body
    assert "Not quite." in body
    assert "ADPs, the NHS and councils." not in body  # a wrong answer does not reveal the right
    assert CheckAnswer.objects.get().correct is False
    assert not LessonCompletion.objects.exists()


def test_search_finds_published_lessons_only(signed_in, course) -> None:
    module = ModulePage.objects.child_of(course).first()
    add_lesson(
        module,
        "Recovery position",
        slug="recovery",
        body=[{"type": "text", "value": "<p>Roll them onto their side.</p>"}],
    )
    hidden = add_lesson(module, "Recovery secrets", slug="recovery-secrets")
    hidden.unpublish()
    body = signed_in.get("/learning/search/?q=recovery").content.decode()
    assert "Recovery position" in body
    assert "Recovery secrets" not in body
    assert signed_in.get("/learning/search/?q=").status_code == 200


@pytest.mark.parametrize(
    "query",
    ['"stigma kills', 'stigma "kills', "he said \"no", "\x00", "near-fatal", "it's", "a* OR b",
     "NOT -x", "(((", "'", "^~:", "NEAR(a b)", "日本語", "%", "\\"],
)  # fmt: skip
def test_search_with_query_syntax_characters_answers_without_error(
    signed_in, course, query
) -> None:  # noqa: ANN001
    module = ModulePage.objects.child_of(course).first()
    add_lesson(module, "Near-fatal overdose", slug="near-fatal")
    response = signed_in.get("/learning/search/", {"q": query})
    assert response.status_code == 200
    if query == "near-fatal":
        assert "Near-fatal overdose" in response.content.decode()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_search_text_answers_without_error(signed_in, course, query) -> None:  # noqa: ANN001
    assert signed_in.get("/learning/search/", {"q": query}).status_code == 200


def test_author_can_preview_a_draft_lesson(client, home, course, org, no_staff_mfa) -> None:
    from officers.models import Role

    author = make_officer(unit=org.east, role=Role.AUTHOR)
    from courses.demo import course_index, grant_author_permissions

    grant_author_permissions(course_index(home))
    client.force_login(author)
    lesson = lessons(course)[0]
    response = client.get(f"/admin/pages/{lesson.pk}/edit/preview/")
    assert response.status_code == 200


def test_nobody_completes_a_course_without_a_service_number(learner, course) -> None:
    """The certificate carries the service number. Learners give it on first sign-in (the
    middleware sends them to their profile first); on any other path (staff, leads, scripts)
    the last lesson is refused with the reason and nothing recorded, and so is the final
    assessment."""
    from courses.assessment import AssessmentRefused, assessment_start
    from courses.services import CompletionRefused, lesson_mark_complete

    learner.officer.service_number = ""
    learner.officer.save(update_fields=["service_number"])
    client = Client()
    client.force_login(learner)
    assert complete(client, lessons(course)[0])["Location"].startswith("/account/profile/")
    *first, last = lessons(course)
    for lesson in first:
        lesson_mark_complete(user=learner, lesson_id=lesson.pk)
    with pytest.raises(CompletionRefused, match="service number"):
        lesson_mark_complete(user=learner, lesson_id=last.pk)
    assert not LessonCompletion.objects.filter(lesson=last).exists()
    assert not Enrolment.objects.get(user=learner).is_complete
    CoursePage.objects.filter(pk=course.pk).update(assessment_question_count=1)
    LessonCompletion.objects.create(enrolment=Enrolment.objects.get(user=learner), lesson=last)
    with pytest.raises(AssessmentRefused, match="service number"):
        assessment_start(user=learner, course_id=course.pk)
    LessonCompletion.objects.filter(lesson=last).delete()
    CoursePage.objects.filter(pk=course.pk).update(assessment_question_count=0)
    learner.officer.service_number = "SN1234"
    learner.officer.save(update_fields=["service_number"])
    assert lesson_mark_complete(user=learner, lesson_id=last.pk).course_completed
