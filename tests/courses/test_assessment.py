"""The final assessment: drawing, taking, scoring, the attempt limit, the certificate, and the
authors' report."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from certificates.models import Certificate
from courses.assessment import (
    AssessmentRefused,
    assessment_answer,
    assessment_start,
    assessment_submit,
    bank_statistics,
)
from courses.models import (
    AssessmentAnswer,
    AssessmentAttempt,
    BankQuestion,
    CoursePage,
    Enrolment,
    LessonPage,
    ModulePage,
)
from courses.rules import (
    AnswerProblem,
    BankEntry,
    answer_correct,
    answer_parse,
    assessment_allowance,
    assessment_draw,
    bank_question_problems,
    correct_is_longest,
    correct_longest_warning,
    option_order,
    question_flag,
)
from officers.models import User
from tests.factories import make_course, make_officer

# --- pure rules ------------------------------------------------------------------------------


def test_draw_takes_n_spread_across_modules() -> None:
    entries = [BankEntry(id=i, module_id=i % 3) for i in range(9)]
    drawn = assessment_draw(entries, 3, random.Random(1))
    assert len(drawn) == 3 and len(set(drawn)) == 3
    assert {i % 3 for i in drawn} == {0, 1, 2}


def test_draw_prefers_never_shown_then_not_this_run_then_oldest() -> None:
    old = datetime(2026, 1, 1, tzinfo=UTC)
    entries = [
        BankEntry(id=1, module_id=1, last_shown=old, shown_this_run=True),
        BankEntry(id=2, module_id=1, last_shown=old + timedelta(days=1)),
        BankEntry(id=3, module_id=1, last_shown=old),
        BankEntry(id=4, module_id=1),
    ]
    assert assessment_draw(entries, 1, random.Random(0)) == [4]
    assert set(assessment_draw(entries, 2, random.Random(0))) == {4, 3}
    assert set(assessment_draw(entries, 3, random.Random(0))) == {4, 3, 2}
    assert len(assessment_draw(entries, 10, random.Random(0))) == 4


def test_option_order_shuffles_and_keeps_pinned_last() -> None:
    options = [("a", False), ("none", True), ("b", False), ("c", False)]
    orders = {tuple(option_order(options, random.Random(seed))) for seed in range(30)}
    assert all(order[-1] == "none" and sorted(order) == ["a", "b", "c", "none"] for order in orders)
    assert len(orders) > 1


@given(
    values=st.lists(st.one_of(st.sampled_from(["a", "b", "c", ""]), st.text()), max_size=6),
    multiple=st.booleans(),
)
def test_answer_parsing_never_raises_and_only_accepts_shown_ids(
    values: list[str], multiple: bool
) -> None:
    chosen, problem = answer_parse(values, ["a", "b", "c"], multiple=multiple)
    assert (chosen is None) != (problem is None)
    if chosen is not None:
        assert chosen and set(chosen) <= {"a", "b", "c"} and set(chosen) == set(values)
        assert multiple or len(chosen) == 1


def test_answer_parsing_problems() -> None:
    assert answer_parse([], ["a"], multiple=False) == (None, AnswerProblem.EMPTY)
    assert answer_parse(["x"], ["a"], multiple=False) == (None, AnswerProblem.UNKNOWN)
    assert answer_parse(["a", "b"], ["a", "b"], multiple=False) == (None, AnswerProblem.TOO_MANY)
    assert answer_parse(["b", "a", "a"], ["a", "b"], multiple=True) == (["a", "b"], None)


def test_scoring_is_exactly_right() -> None:
    assert answer_correct(["a"], ["a"])
    assert not answer_correct(["a", "b"], ["a"])
    assert answer_correct(["b", "a"], ["a", "b"])
    assert not answer_correct(["a"], ["a", "b"])
    assert not answer_correct(None, ["a"])


def test_allowance_pauses_after_failures_in_a_row() -> None:
    t0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
    fails = [(t0 + timedelta(minutes=i), False) for i in range(3)]
    kw = {"max_attempts": 3, "cooldown_hours": 24}
    assert assessment_allowance(fails[:2], now=t0 + timedelta(hours=1), **kw).remaining == 1
    paused = assessment_allowance(fails, now=t0 + timedelta(hours=1), **kw)
    assert paused.remaining == 0 and paused.paused_until == fails[-1][0] + timedelta(hours=24)
    after = assessment_allowance(fails, now=t0 + timedelta(hours=25), **kw)
    assert after.remaining == 3 and after.paused_until is None


def test_bank_question_problems() -> None:
    assert bank_question_problems([True, False], multiple=False) == []
    assert bank_question_problems([True], multiple=False)[0].value == "too_few_options"
    assert bank_question_problems([False, False], multiple=True)[0].value == "no_correct"
    assert bank_question_problems([True, True], multiple=False)[0].value == "more_than_one_correct"
    assert bank_question_problems([True, True], multiple=True) == []


def test_flags_and_longest_warning() -> None:
    assert question_flag(9, 9) is None
    assert question_flag(20, 19).value == "easy"
    assert question_flag(10, 2).value == "hard"
    assert question_flag(10, 5) is None
    giveaway = [("The long and detailed correct answer", True), ("Short", False)]
    fair = [("Yes", True), ("A longer wrong answer", False)]
    assert correct_is_longest(giveaway) and not correct_is_longest(fair)
    assert not correct_is_longest([("same", True), ("four", False)])
    assert correct_longest_warning([giveaway, giveaway, giveaway, fair])
    assert not correct_longest_warning([giveaway, fair, fair, fair])


# --- the database ----------------------------------------------------------------------------


def option(text: str, correct: bool = False, pinned: bool = False) -> dict:
    return {
        "type": "option",
        "id": str(uuid.uuid4()),
        "value": {"text": text, "correct": correct, "feedback": f"About {text}.", "pinned": pinned},
    }


def add_question(
    course: CoursePage, module: ModulePage | None, n: int, *, multiple: bool = False, **kw
) -> BankQuestion:
    options = [option(f"Q{n} right", True), option(f"Q{n} wrong")]
    if multiple:
        options.append(option(f"Q{n} also right", True))
    options.append(option(f"Q{n} none of these", pinned=True))
    question = BankQuestion(
        course=course, module=module, prompt=f"Question {n}?", multiple=multiple, options=options
    )
    for key, value in kw.items():
        setattr(question, key, value)
    question.save()
    question.save_revision().publish()
    return question


def right_ids(answer: AssessmentAnswer) -> list[str]:
    question = BankQuestion.objects.get(pk=answer.question_id)
    return [c.id for c in question.options if c.value["correct"]]


def wrong_ids(answer: AssessmentAnswer) -> list[str]:
    question = BankQuestion.objects.get(pk=answer.question_id)
    return [next(c.id for c in question.options if not c.value["correct"])]


@pytest.fixture
def course(home) -> CoursePage:  # noqa: ANN001
    course = make_course(
        home,
        title="Naloxone",
        modules=2,
        lessons=1,
        validity_months=12,
        assessment_question_count=4,
        assessment_pass_mark=75,
        assessment_max_attempts=2,
        assessment_cooldown_hours=24,
    )
    modules = list(ModulePage.objects.child_of(course).order_by("path"))
    for n in range(1, 9):
        add_question(course, modules[n % 2], n, multiple=n == 1)
    return course


def finish_lessons(client: Client, course: CoursePage) -> None:
    for lesson in LessonPage.objects.live().descendant_of(course).order_by("path"):
        assert client.post(f"/learning/lessons/{lesson.pk}/complete/").status_code == 302


@pytest.fixture
def officer_client(learner: User, course: CoursePage) -> Client:
    client = Client()
    client.force_login(learner)
    finish_lessons(client, course)
    return client


def take(user: User, attempt: AssessmentAttempt, right: int) -> AssessmentAttempt:
    for answer in attempt.answers.order_by("position"):
        ids = right_ids(answer) if answer.position <= right else wrong_ids(answer)
        assessment_answer(user=user, attempt_id=attempt.pk, position=answer.position, values=ids)
    return assessment_submit(user=user, attempt_id=attempt.pk).attempt


def test_lessons_alone_do_not_complete_a_course_with_an_assessment(
    officer_client: Client, learner: User, course: CoursePage
) -> None:
    enrolment = Enrolment.objects.get(user=learner)
    assert enrolment.completed_at is None
    page = officer_client.get(course.url).content.decode()
    assert "Start the final assessment" in page


def test_draw_stores_revision_and_order_with_pinned_last(
    officer_client: Client, learner: User, course: CoursePage
) -> None:
    attempt = assessment_start(user=learner, course_id=course.pk, rng=random.Random(3))
    answers = list(attempt.answers.order_by("position"))
    assert [a.position for a in answers] == [1, 2, 3, 4] and attempt.total == 4
    modules = {BankQuestion.objects.get(pk=a.question_id).module_id for a in answers}
    assert len(modules) == 2  # spread
    for answer in answers:
        question = BankQuestion.objects.get(pk=answer.question_id)
        assert answer.revision_id == question.live_revision_id
        pinned = [c.id for c in question.options if c.value["pinned"]]
        assert answer.option_order[-len(pinned) :] == pinned
    # A second start returns the attempt under way.
    assert assessment_start(user=learner, course_id=course.pk).pk == attempt.pk


def test_scoring_single_and_multiple_answers_and_pass_completes_with_score_on_certificate(
    officer_client: Client, learner: User, course: CoursePage, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    attempt = assessment_start(user=learner, course_id=course.pk)
    with django_capture_on_commit_callbacks(execute=False):
        done = take(learner, attempt, right=3)
    assert (done.score, done.percent, done.passed) == (3, 75, True)
    certificate = Certificate.objects.get(user=learner)
    assert certificate.assessment_percent == 75
    verify = Client().get(certificate.verify_path()).content.decode()
    assert "Final assessment" in verify and "75%" in verify
    from certificates.pdf import render_certificate_html
    from certificates.rendering import certificate_data

    assert "Final assessment: 75%" in render_certificate_html(certificate_data(certificate))


def test_multiple_answer_needs_every_right_option(
    officer_client: Client, learner: User, course: CoursePage
) -> None:
    CoursePage.objects.filter(pk=course.pk).update(assessment_question_count=8)  # draw them all
    attempt = assessment_start(user=learner, course_id=course.pk)
    multi = next(
        a for a in attempt.answers.all() if BankQuestion.objects.get(pk=a.question_id).multiple
    )
    assessment_answer(
        user=learner, attempt_id=attempt.pk, position=multi.position, values=right_ids(multi)[:1]
    )
    for answer in attempt.answers.exclude(pk=multi.pk):
        assessment_answer(
            user=learner, attempt_id=attempt.pk, position=answer.position, values=right_ids(answer)
        )
    done = assessment_submit(user=learner, attempt_id=attempt.pk).attempt
    assert done.score == 7
    assert AssessmentAnswer.objects.get(pk=multi.pk).correct is False


def test_retake_draws_a_fresh_set_and_limit_then_cooldown(
    officer_client: Client, learner: User, course: CoursePage
) -> None:
    first = assessment_start(user=learner, course_id=course.pk)
    for a in first.answers.all():  # shown
        AssessmentAnswer.objects.filter(pk=a.pk).update(shown_at=timezone.now())
    take(learner, first, right=0)
    second = assessment_start(user=learner, course_id=course.pk)
    before = set(first.answers.values_list("question_id", flat=True))
    after = set(second.answers.values_list("question_id", flat=True))
    assert not before & after  # 8 questions, 4 per attempt: an entirely fresh set
    take(learner, second, right=1)
    with pytest.raises(AssessmentRefused, match="try again from"):
        assessment_start(user=learner, course_id=course.pk)
    page = officer_client.get(course.url).content.decode()
    assert "You have used your attempts for now" in page
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert assessment_start(user=learner, course_id=course.pk).submitted_at is None


def test_refresher_avoids_questions_already_shown(
    officer_client: Client, learner: User, course: CoursePage, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    first = assessment_start(user=learner, course_id=course.pk)
    AssessmentAnswer.objects.filter(attempt=first).update(shown_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False):
        take(learner, first, right=4)
    assert officer_client.post(f"/learning/courses/{course.pk}/start/").status_code == 302
    finish_lessons(officer_client, course)
    again = assessment_start(user=learner, course_id=course.pk)
    assert not set(first.answers.values_list("question_id", flat=True)) & set(
        again.answers.values_list("question_id", flat=True)
    )


def test_no_questions_means_not_ready_and_no_completion(home, learner: User) -> None:  # noqa: ANN001
    course = make_course(
        home, title="Empty bank", modules=1, lessons=1, assessment_question_count=3
    )
    client = Client()
    client.force_login(learner)
    finish_lessons(client, course)
    page = client.get(course.url).content.decode()
    assert "The final assessment is not ready yet" in page
    response = client.post(f"/learning/courses/{course.pk}/assessment/start/")
    assert response.status_code == 409
    assert not Enrolment.objects.filter(user=learner, completed_at__isnull=False).exists()


def test_cannot_start_before_the_lessons(home, learner: User, course: CoursePage) -> None:  # noqa: ANN001
    client = Client()
    client.force_login(learner)
    assert client.post(f"/learning/courses/{course.pk}/assessment/start/").status_code == 409
    assert not AssessmentAttempt.objects.exists()


def test_pages_and_bad_input_change_nothing(
    officer_client: Client, learner: User, org, course: CoursePage
) -> None:  # noqa: ANN001
    response = officer_client.post(f"/learning/courses/{course.pk}/assessment/start/")
    attempt = AssessmentAttempt.objects.get(user=learner)
    assert response["Location"] == f"/learning/assessments/{attempt.pk}/"
    url = f"/learning/assessments/{attempt.pk}/questions/1/"
    assert officer_client.get(f"/learning/assessments/{attempt.pk}/")["Location"] == url
    page = officer_client.get(url)
    assert page.status_code == 200 and b"<fieldset" in page.content and b"<legend" in page.content
    assert AssessmentAnswer.objects.get(attempt=attempt, position=1).shown_at is not None
    empty = officer_client.post(url, {})
    assert empty.status_code == 400 and b"There is a problem" in empty.content
    assert b'aria-invalid="true"' in empty.content
    assert officer_client.post(url, {"answer": ["nope"]}).status_code == 400
    assert officer_client.post(url, {"answer": ["\x00" * 3]}).status_code == 400
    assert (
        officer_client.post(f"/learning/assessments/{attempt.pk}/questions/99/").status_code == 404
    )
    assert AssessmentAnswer.objects.get(attempt=attempt, position=1).chosen is None
    # Submitting with questions unanswered is refused.
    assert officer_client.post(f"/learning/assessments/{attempt.pk}/submit/").status_code == 400
    # Someone else's attempt is missing.
    other = Client()
    other.force_login(make_officer(unit=org.dundee, email="other@police.scot"))
    assert other.get(url).status_code == 404
    assert other.post(url, {"answer": ["x"]}).status_code == 404
    assert other.post(f"/learning/assessments/{attempt.pk}/submit/").status_code == 404
    # Answer all through the pages, check, submit; a second submit is refused.
    for answer in attempt.answers.order_by("position"):
        officer_client.post(
            f"/learning/assessments/{attempt.pk}/questions/{answer.position}/",
            {"answer": right_ids(answer)},
        )
    check = officer_client.get(f"/learning/assessments/{attempt.pk}/check/")
    assert b"Check your answers" in check.content and b"Submit" in check.content
    assert officer_client.post(f"/learning/assessments/{attempt.pk}/submit/").status_code == 302
    assert officer_client.post(f"/learning/assessments/{attempt.pk}/submit/").status_code == 409
    assert (
        officer_client.post(url, {"answer": right_ids(attempt.answers.get(position=1))}).status_code
        == 409
    )
    result = officer_client.get(f"/learning/assessments/{attempt.pk}/").content.decode()
    assert "Passed" in result and "100%" in result and "My learning" in result


def test_report_counts_by_option_id_across_a_reordering_revision(
    officer_client: Client, learner: User, course: CoursePage, django_assert_max_num_queries
) -> None:  # noqa: ANN001
    attempt = assessment_start(user=learner, course_id=course.pk)
    take(learner, attempt, right=0)
    answer = attempt.answers.get(position=1)
    question = BankQuestion.objects.get(pk=answer.question_id)
    picked = wrong_ids(answer)[0]
    # A new revision that reverses the options (same ids) is published.
    question.options = list(reversed(list(question.options.raw_data)))
    question.save()
    question.save_revision().publish()
    with django_assert_max_num_queries(6):
        report = bank_statistics(course=course, answers=AssessmentAnswer.objects.all())
        stat = next(s for s in report.questions if s.question.pk == question.pk)
        assert stat.answered == 1 and stat.right == 0
        assert next(o for o in stat.options if o.id == picked).picked == 1
    this = bank_statistics(course=course, answers=AssessmentAnswer.objects.all(), this_version=True)
    assert next(s for s in this.questions if s.question.pk == question.pk).answered == 0


def test_report_queries_do_not_grow(
    learner: User, course: CoursePage, django_assert_max_num_queries
) -> None:
    module = ModulePage.objects.child_of(course).first()
    for n in range(20, 40):
        add_question(course, module, n)
    with django_assert_max_num_queries(6):
        report = bank_statistics(course=course, answers=AssessmentAnswer.objects.all())
        assert len(report.questions) == 28


@pytest.mark.usefixtures("no_staff_mfa")
def test_bank_editor_refuses_bad_questions_and_the_report_answers_authors_only(
    course: CoursePage, north_lead: User, administrator: User
) -> None:
    admin = Client()
    admin.force_login(User.objects.create_superuser("super@police.scot", "x"))
    assert admin.get("/admin/snippets/courses/bankquestion/").status_code == 200
    response = admin.post(
        "/admin/snippets/courses/bankquestion/add/",
        {
            "course": course.pk,
            "jurisdiction": "all",
            "prompt": "Bad?",
            "options-count": "2",
            **{
                f"options-{i}-{k}": v
                for i in range(2)
                for k, v in {
                    "type": "option",
                    "deleted": "",
                    "order": str(i),
                    "value-text": f"o{i}",
                    "value-feedback": "f",
                }.items()
            },
        },
    )
    assert response.status_code == 200
    assert "Mark at least one answer correct." in response.content.decode()
    assert admin.post("/admin/snippets/courses/bankquestion/add/", {}).status_code == 200
    # A forged count (not a number, or naming answers that were not sent) is no answers.
    for count in ("abc", "-1", "100000", "3"):
        forged = admin.post(
            "/admin/snippets/courses/bankquestion/add/",
            {"course": course.pk, "jurisdiction": "all", "prompt": "F?", "options-count": count},
        )
        assert forged.status_code == 200, count
        assert "Give at least two answers." in forged.content.decode()
    report = admin.get(f"/admin/snippets/courses/bankquestion/report/?course={course.pk}")
    assert report.status_code == 200 and b"Question 1?" in report.content
    lead = Client()
    lead.force_login(north_lead)
    assert lead.get("/admin/snippets/courses/bankquestion/").status_code in (302, 403)
    assert lead.get("/admin/snippets/courses/bankquestion/report/").status_code in (302, 403)


def test_a_question_deleted_mid_attempt_can_still_be_answered_scored_and_reviewed(
    officer_client: Client, learner: User, course: CoursePage, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    """The attempt keeps each question as drawn: an author deleting one (and with it its
    revisions) neither strands the officer nor changes the evidence behind the certificate."""
    attempt = assessment_start(user=learner, course_id=course.pk)
    answers = list(attempt.answers.order_by("position"))
    right = {a.position: [o["id"] for o in a.snapshot["options"] if o["correct"]] for a in answers}
    prompt = answers[0].snapshot["prompt"]
    BankQuestion.objects.get(pk=answers[0].question_id).delete()
    page = officer_client.get(f"/learning/assessments/{attempt.pk}/questions/1/")
    assert page.status_code == 200 and prompt in page.content.decode()
    for answer in answers:
        assessment_answer(
            user=learner,
            attempt_id=attempt.pk,
            position=answer.position,
            values=right[answer.position],
        )
    with django_capture_on_commit_callbacks(execute=False):
        done = assessment_submit(user=learner, attempt_id=attempt.pk).attempt
    assert (done.score, done.passed) == (4, True)
    review = officer_client.get(f"/learning/assessments/{attempt.pk}/").content.decode()
    assert prompt in review


def test_an_old_failed_result_offers_no_retake_once_the_run_is_passed(
    officer_client: Client, learner: User, course: CoursePage, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    failed = take(learner, assessment_start(user=learner, course_id=course.pk), right=0)
    page = officer_client.get(f"/learning/assessments/{failed.pk}/").content.decode()
    assert "Try the final assessment again" in page
    with django_capture_on_commit_callbacks(execute=False):
        take(learner, assessment_start(user=learner, course_id=course.pk), right=4)
    page = officer_client.get(f"/learning/assessments/{failed.pk}/").content.decode()
    assert "Try the final assessment again" not in page
    assert "passed the final assessment in a later attempt" in page


def test_complete_and_continue_on_a_completed_course_goes_on(
    officer_client: Client, learner: User, course: CoursePage, django_capture_on_commit_callbacks
) -> None:  # noqa: ANN001
    """The scenario result's "Mark the lesson complete and continue" after the course is done
    (a replay) is no dead end: it goes on to the course page, saying why nothing changed."""
    with django_capture_on_commit_callbacks(execute=False):
        take(learner, assessment_start(user=learner, course_id=course.pk), right=4)
    lesson = LessonPage.objects.live().descendant_of(course).order_by("path").first()
    response = officer_client.post(f"/learning/lessons/{lesson.pk}/complete/", follow=True)
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == course.url
    assert "already completed this course" in response.content.decode()


def test_continue_leads_to_the_final_assessment_once_the_lessons_are_done(
    officer_client: Client, course: CoursePage
) -> None:
    response = officer_client.get(f"/learning/courses/{course.pk}/continue/")
    assert response["Location"] == course.url + "#final-assessment"
    page = officer_client.get(course.url).content.decode()
    assert 'id="final-assessment"' in page
