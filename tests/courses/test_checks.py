"""Knowledge checks: answered by POST and recorded, shuffled per run, and gating completion."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from courses.models import CheckAnswer, Enrolment, LessonCompletion, LessonPage, ModulePage
from courses.rules import (
    AnswerProblem,
    CheckOption,
    CheckQuestion,
    check_answer_read,
    check_option_order,
    unanswered_checks,
)
from courses.templatetags.courses_tags import feedback_label
from tests.factories import add_lesson, make_course, make_officer

# --------------------------------------------------------------------------- rules (no db)

QUESTION = CheckQuestion(
    id="q1",
    multiple=False,
    options=(
        CheckOption("a", correct=True),
        CheckOption("b", correct=False),
        CheckOption("c", correct=False),
        CheckOption("none", correct=False, pinned=True),
    ),
)


def test_unanswered_checks_keeps_authored_order() -> None:
    assert unanswered_checks(["q1", "q2", "q3"], {"q2"}) == ("q1", "q3")
    assert unanswered_checks([], set()) == ()


def test_option_order_is_stable_per_seed_and_pins_last() -> None:
    first = check_option_order("seed-1", QUESTION)
    assert first == check_option_order("seed-1", QUESTION)
    assert sorted(first) == ["a", "b", "c", "none"] and first[-1] == "none"
    orders = {tuple(check_option_order(f"seed-{n}", QUESTION)) for n in range(40)}
    assert len(orders) > 1  # different runs see different orders
    assert {order[0] for order in orders} >= {"a", "b"}  # the right answer is not always first


@given(st.text(max_size=30), st.lists(st.booleans(), min_size=1, max_size=8))
def test_option_order_is_a_permutation_with_pinned_last(seed: str, pins: list[bool]) -> None:
    options = tuple(CheckOption(str(i), correct=i == 0, pinned=p) for i, p in enumerate(pins))
    order = check_option_order(seed, CheckQuestion("q", False, options))
    assert sorted(order) == sorted(o.id for o in options)
    pinned = [o.id for o in options if o.pinned]
    assert order[len(order) - len(pinned) :] == pinned


@given(st.lists(st.one_of(st.sampled_from(["a", "b", "c", "none"]), st.text(max_size=5))))
def test_answer_reading_never_raises_and_accepts_only_one_known_option(values: list[str]) -> None:
    chosen, problem = check_answer_read(QUESTION, values)
    if problem is None:
        assert chosen is not None and len(chosen) == 1 and chosen[0] in {"a", "b", "c", "none"}
    else:
        assert chosen is None and isinstance(problem, AnswerProblem)


def test_answer_reading_problems() -> None:
    assert check_answer_read(QUESTION, [])[1] is AnswerProblem.EMPTY
    assert check_answer_read(QUESTION, ["zzz"])[1] is AnswerProblem.UNKNOWN
    assert check_answer_read(QUESTION, ["a", "b"])[1] is AnswerProblem.TOO_MANY
    assert check_answer_read(QUESTION, ["a", "a"]) == (["a"], None)


def test_feedback_label_is_not_doubled() -> None:
    assert feedback_label("Correct. That is why.", correct=True) == ""
    assert feedback_label("That is why.", correct=True) == "Correct."
    assert feedback_label("No. It wears off.", correct=False) == ""
    assert feedback_label("Nobody leads alone.", correct=False) == "Not quite."


# ----------------------------------------------------------------------- through the client

SINGLE = {
    "prompt": "What does naloxone do?",
    "multiple": False,
    "options": [
        {
            "text": "Reverses opioids",
            "correct": True,
            "feedback": "Correct. It does.",
            "pinned": False,
        },
        {
            "text": "Tests for drugs",
            "correct": False,
            "feedback": "It is not a test.",
            "pinned": False,
        },
        {"text": "Sedates", "correct": False, "feedback": "It does not sedate.", "pinned": False},
        {"text": "None of these", "correct": False, "feedback": "One is right.", "pinned": True},
    ],
}
MULTIPLE = {
    "prompt": "What do you hand over?",
    "multiple": True,
    "options": [
        {
            "text": "Used devices",
            "correct": True,
            "feedback": "Yes: the crew sees them.",
            "pinned": False,
        },
        {
            "text": "The time given",
            "correct": True,
            "feedback": "The crew needs it.",
            "pinned": False,
        },
        {
            "text": "Nothing",
            "correct": False,
            "feedback": "Hand over what you gave.",
            "pinned": False,
        },
    ],
}


@pytest.fixture
def lesson(home):  # noqa: ANN001, ANN201
    course = make_course(home, title="Checks", modules=1, lessons=0)
    module = ModulePage.objects.child_of(course).get()
    body = [
        {"type": "text", "value": "<p>Read this first.</p>"},
        {"type": "question", "value": SINGLE},
        {"type": "question", "value": MULTIPLE},
    ]
    return LessonPage.objects.get(pk=add_lesson(module, "Checked", slug="checked", body=body).pk)


@pytest.fixture
def signed_in(client, learner) -> Client:  # noqa: ANN001
    client.force_login(learner)
    return client


def ids(lesson: LessonPage, index: int) -> tuple[str, list[str]]:
    block = [b for b in lesson.body if b.block_type == "question"][index]
    return block.id, [item.id for item in block.value["options"].bound_blocks]


def check(client: Client, lesson: LessonPage, question: str, chosen: list[str]):  # noqa: ANN201
    return client.post(
        f"/learning/lessons/{lesson.pk}/check/", {"question": question, "chosen": chosen}
    )


def test_a_lesson_with_unanswered_checks_cannot_be_completed(signed_in, lesson) -> None:
    body = signed_in.get(lesson.url).content.decode()
    assert "Answer the 2 check questions correctly, then mark the lesson complete" in body
    assert "Mark as complete" not in body
    response = signed_in.post(f"/learning/lessons/{lesson.pk}/complete/", follow=True)
    assert "2 questions are still to answer" in response.content.decode()
    assert response.redirect_chain[-1][0].startswith(lesson.url)
    assert not LessonCompletion.objects.exists()

    q1, (right, wrong, *_rest) = ids(lesson, 0)
    q2, (dev, time, nothing) = ids(lesson, 1)
    assert check(signed_in, lesson, q1, [wrong]).status_code == 302
    check(signed_in, lesson, q1, [right])
    check(signed_in, lesson, q2, [dev])  # only part of the right set: wrong
    body = signed_in.get(lesson.url).content.decode()
    assert "Answer the check question correctly" in body
    assert signed_in.post(f"/learning/lessons/{lesson.pk}/complete/").status_code == 302
    assert not LessonCompletion.objects.exists()

    check(signed_in, lesson, q2, [dev, time])
    assert [a.correct for a in CheckAnswer.objects.order_by("pk")] == [False, True, False, True]
    assert "Mark as complete" in signed_in.get(lesson.url).content.decode()
    signed_in.post(f"/learning/lessons/{lesson.pk}/complete/")
    assert LessonCompletion.objects.count() == 1


def test_feedback_comes_from_the_latest_answer_without_a_doubled_label(signed_in, lesson) -> None:
    q1, (right, wrong, *_rest) = ids(lesson, 0)
    response = check(signed_in, lesson, q1, [wrong])
    assert response["Location"] == f"{lesson.url}#block-{q1}"
    body = signed_in.get(lesson.url).content.decode()
    assert "It is not a test." in body and "Correct. It does." not in body
    check(signed_in, lesson, q1, [right])
    body = signed_in.get(lesson.url).content.decode()
    assert "Correct. It does." in body and "It is not a test." not in body
    assert "Correct.</strong> Correct." not in body


def test_an_empty_answer_says_what_is_missing_and_records_nothing(signed_in, lesson) -> None:
    q1, _options = ids(lesson, 0)
    response = check(signed_in, lesson, q1, [])
    assert response["Location"].endswith(f"#block-{q1}")
    body = signed_in.get(response["Location"]).content.decode()
    assert "There is a problem" in body
    assert f'href="#answer-{q1}-0"' in body  # the summary links to the question
    assert body.count("Choose an answer, then select") == 2  # summary and field error
    assert f'aria-describedby="answer-{q1}-error"' in body
    assert not CheckAnswer.objects.exists() and not Enrolment.objects.exists()
    assert "There is a problem" not in signed_in.get(lesson.url).content.decode()  # shown once


def test_bad_input_changes_nothing_and_never_fails(signed_in, lesson, home) -> None:
    q1, options1 = ids(lesson, 0)
    q2, options2 = ids(lesson, 1)
    other = make_course(home, title="Other", modules=1, lessons=1)
    not_a_lesson = other.pk
    cases = [
        (lesson.pk, q1, ["not-an-option"]),
        (lesson.pk, q1, [options2[0]]),  # an option of another question
        (lesson.pk, q1, options1[:2]),  # two answers to a one-answer question
        (lesson.pk, "no-such-question", [options1[0]]),
        (lesson.pk, "", []),
        (not_a_lesson, q1, [options1[0]]),
        (999999999, q1, [options1[0]]),
    ]
    for lesson_id, question, chosen in cases:
        response = signed_in.post(
            f"/learning/lessons/{lesson_id}/check/",
            {"question": question, "chosen": chosen},
            follow=True,
        )
        assert response.status_code in (200, 404), (lesson_id, question, chosen)
        page = response.content.decode()
        assert "not available" in page or "There is a problem" in page
    assert signed_in.get(f"/learning/lessons/{lesson.pk}/check/").status_code == 405
    assert not CheckAnswer.objects.exists() and not Enrolment.objects.exists()
    del q2


def test_check_answer_needs_csrf_and_sign_in(learner, lesson) -> None:
    q1, options = ids(lesson, 0)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)
    url = f"/learning/lessons/{lesson.pk}/check/"
    assert strict.post(url, {"question": q1, "chosen": options[0]}).status_code == 403
    anonymous = Client().post(url, {"question": q1, "chosen": options[0]})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert not CheckAnswer.objects.exists()


def test_options_are_shuffled_per_run_and_posted_by_id(signed_in, learner, lesson, org) -> None:
    q1, options = ids(lesson, 0)
    texts = ["Reverses opioids", "Tests for drugs", "Sedates", "None of these"]

    def shown(client: Client) -> list[str]:
        body = client.get(lesson.url).content.decode()
        return sorted(texts, key=body.index)

    before = shown(signed_in)
    assert before == shown(signed_in) and before[-1] == "None of these"
    check(signed_in, lesson, q1, [options[0]])  # starts the run
    run = shown(signed_in)
    # Starting the run does not reshuffle what the officer was looking at.
    assert run == before == shown(signed_in) and run[-1] == "None of these"
    seen = {tuple(run)}
    for _ in range(8):
        other = Client()
        other.force_login(make_officer(unit=org.dundee))
        check(other, lesson, q1, [options[1]])
        seen.add(tuple(shown(other)))
    assert len(seen) > 1


def test_a_refresher_shows_another_order(signed_in, learner, lesson) -> None:
    """A new run (a refresher) has its own random seed; the first run keeps the officer's."""
    from courses.selectors import check_seed
    from courses.services import enrolment_start

    first = Enrolment.objects.filter(user=learner)
    check(signed_in, lesson, *ids(lesson, 0)[:1], [ids(lesson, 0)[1][0]])
    assert first.get().order_seed == check_seed(learner, None)
    first.update(completed_at=timezone.now())
    seeds = set()
    for _ in range(3):
        refresher = enrolment_start(user=learner, course_id=lesson.get_parent().get_parent().pk)
        seeds.add(refresher.order_seed)
        Enrolment.objects.filter(pk=refresher.pk).update(completed_at=timezone.now())
    assert check_seed(learner, None) not in seeds and len(seeds) == 3


def test_a_completed_course_can_be_practised_without_recording(signed_in, lesson) -> None:
    q1, (right, *_rest) = ids(lesson, 0)
    q2, (dev, time, _nothing) = ids(lesson, 1)
    check(signed_in, lesson, q1, [right])
    check(signed_in, lesson, q2, [dev, time])
    signed_in.post(f"/learning/lessons/{lesson.pk}/complete/")
    assert Enrolment.objects.get().is_complete
    before = CheckAnswer.objects.count()

    response = check(signed_in, lesson, q1, [_rest[0]])
    body = signed_in.get(response["Location"]).content.decode()
    assert "checked but not recorded" in body
    assert "It is not a test." in body  # the practice answer's feedback
    assert CheckAnswer.objects.count() == before
