"""Query counts on learner pages: within their bounds, and the same with little data as with a
lot (courses, lessons, officers, progress).

Each page is measured as officers meet it: after another request has made the shared cache's
entries (courses.cache), which every officer then reads. The first request after a change of
content makes them again; it is bounded too (COLD_EXTRA more).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from courses.models import LessonPage, LocalInformation, ModulePage
from officers.jurisdictions import Jurisdiction
from scenarios.models import Attempt
from tests.factories import add_lesson, make_course, make_officer
from tests.scenarios.conftest import DOC, publish_document

# Per request: the session, the user and the officer (profile, force, unit and staff role in
# one: officers.middleware.profile_of). The site, the page, its course and
# module, the course's outline and the lesson body's blocks that are the same for every
# officer come from the shared cache (courses.cache). Then, for each page:
LESSON_PAGE_MAX = 12  # the run with its lessons done, the visit; per block kind, below
COURSE_PAGE_MAX = 12  # the run with its lessons done, the scenarios passed; the assessment's
MY_LEARNING_MAX = 12  # runs, lessons done, assignments, certificates, reminders, other courses
SCENARIO_CHOICE_MAX = 10  # the attempt (locked) with its revision, its choices, two writes
# Making the entries again after a change of content: the sites and their home page (Wagtail's
# own look-up for the request, then every site, kept), the page (its type, then itself), its
# course and module, whether there is any view restriction, the course's modules and lessons.
COLD_EXTRA = 11


def counted(request: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert response.status_code in (200, 302), response.status_code  # type: ignore[attr-defined]
    return len(queries)


def signed_in(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def progress_everywhere(client: Client, courses) -> None:  # noqa: ANN001
    for course in courses:
        for lesson in LessonPage.objects.live().descendant_of(course).order_by("path")[:3]:
            assert client.post(f"/learning/lessons/{lesson.pk}/complete/").status_code == 302


def add_courses(home, org, first: int, count: int, officers: int):  # noqa: ANN001, ANN201
    """`count` courses of 2 modules x 5 lessons, and officers with progress in the first five."""
    courses = [
        make_course(home, title=f"Course {i:02d}", modules=2, lessons=5)
        for i in range(first, first + count)
    ]
    for _ in range(officers):
        progress_everywhere(signed_in(make_officer(unit=org.dundee)), courses[:5])
    return courses


def page_counts(client: Client, lesson: LessonPage, course, scenario) -> dict[str, int]:  # noqa: ANN001
    """Each page once to make the shared entries (and the lesson's visit), then counted."""
    pages = {
        "lesson": lambda: client.get(lesson.url),
        "course": lambda: client.get(course.url),
        "my_learning": lambda: client.get("/learning/"),
    }
    for request in pages.values():
        request()
    counts = {name: counted(request) for name, request in pages.items()}
    counts["scenario_choice"] = scenario_choice_queries(client, scenario)
    return counts


def scenario_choice_queries(client: Client, scenario) -> int:  # noqa: ANN001
    """The queries of a choice on a scenario step (an attempt started just before)."""
    started = client.post(f"/scenarios/{scenario.pk}/start/")
    attempt = Attempt.objects.get(pk=int(started["Location"].rstrip("/").split("/")[-1]))
    return counted(
        lambda: client.post(
            f"/scenarios/attempts/{attempt.pk}/choose/",
            {"step": attempt.current_step, "choice": "c1"},
        )
    )


def test_learner_pages_stay_within_their_bounds_whatever_the_data(home, org, learner) -> None:  # noqa: ANN001
    scenario = publish_document(DOC)
    small = add_courses(home, org, 0, 2, officers=1)
    client = signed_in(learner)
    progress_everywhere(client, small)
    lesson = LessonPage.objects.live().descendant_of(small[1]).order_by("path")[4]
    before = page_counts(client, lesson, small[0], scenario)

    large = add_courses(home, org, 2, 18, officers=6)
    progress_everywhere(client, large)
    for _ in range(3):  # more attempts at the scenario, by the learner and others
        scenario_choice_queries(client, scenario)
        scenario_choice_queries(signed_in(make_officer(unit=org.dundee)), scenario)
    after = page_counts(client, lesson, small[0], scenario)

    assert before == after
    assert after["lesson"] <= LESSON_PAGE_MAX
    assert after["course"] <= COURSE_PAGE_MAX
    assert after["my_learning"] <= MY_LEARNING_MAX
    assert after["scenario_choice"] <= SCENARIO_CHOICE_MAX
    body = client.get("/learning/").content.decode()
    assert body.count("3 of 10 lessons done") == 20


def test_after_a_change_of_content_the_first_view_is_bounded_too(home, org, learner) -> None:  # noqa: ANN001
    courses = add_courses(home, org, 0, 3, officers=1)
    client = signed_in(learner)
    progress_everywhere(client, courses)
    lesson = LessonPage.objects.live().descendant_of(courses[1]).order_by("path")[6]
    client.get(lesson.url)
    warm = counted(lambda: client.get(lesson.url))

    def cold() -> int:
        other = LessonPage.objects.live().descendant_of(courses[2]).order_by("path")[0]
        other.save_revision().publish()  # any publish makes every entry again
        return counted(lambda: client.get(lesson.url))

    first = cold()
    add_courses(home, org, 3, 10, officers=3)
    assert cold() == first <= warm + COLD_EXTRA


@pytest.fixture
def rich_lesson(home, org):  # noqa: ANN001, ANN201
    """A lesson with every kind of block an officer sees differently: a check question, a
    scenario, force-local information, a jurisdiction switch and a reference for one
    jurisdiction; in a course with a final assessment."""
    org.force.jurisdiction = Jurisdiction.SCOTLAND
    org.force.save(update_fields=["jurisdiction"])
    scenario = publish_document(DOC)
    course = make_course(home, title="Rich", modules=1, lessons=2, assessment_question_count=2)
    module = ModulePage.objects.child_of(course).get()
    item = LocalInformation(unit=org.force, kind="welfare", body="Call the wellbeing line.")
    item.save()
    item.save_revision().publish()
    body = [
        {"type": "text", "value": "<p>Read this.</p>"},
        {
            "type": "question",
            "value": {
                "prompt": "Which?",
                "multiple": False,
                "options": [
                    {"text": "Right", "correct": True, "feedback": "Yes.", "pinned": False},
                    {"text": "Wrong", "correct": False, "feedback": "No.", "pinned": False},
                ],
            },
        },
        {"type": "scenario", "value": {"scenario": scenario.pk}},
        {"type": "local_information", "value": {"kind": "welfare", "lead_in": ""}},
        {
            "type": "jurisdiction_switch",
            "value": {
                "heading": "Diversion",
                "scotland": "<p>Scottish text.</p>",
                "england_wales": "<p>English text.</p>",
                "northern_ireland": "",
            },
        },
        {
            "type": "citation",
            "value": {"source": "Crown Office", "audience": [Jurisdiction.SCOTLAND]},
        },
    ]
    return add_lesson(module, "Everything", slug="everything", body=body)


def test_a_lesson_with_every_kind_of_block_stays_within_the_bound(
    rich_lesson, learner, org
) -> None:  # noqa: ANN001
    """Per kind of block, at most one query whatever the number of blocks: the officer's
    answers (questions, in a run), their attempts (scenarios: which they passed comes from
    them too) and the scenarios shown, their force's local texts."""
    client = signed_in(learner)
    client.get(rich_lesson.url)
    question = rich_lesson.body[rich_lesson.block_positions("question")[0]]
    wrong = question.value["options"].bound_blocks[1].id
    answer = {"question": question.id, "chosen": [wrong]}
    client.post(f"/learning/lessons/{rich_lesson.pk}/check/", answer)  # a run, an answer
    client.get(rich_lesson.url)
    first_visit = counted(lambda: client.get(rich_lesson.url))
    assert first_visit <= LESSON_PAGE_MAX
    for _ in range(3):  # others' visits, answers and attempts change nothing
        other = signed_in(make_officer(unit=org.dundee))
        other.get(rich_lesson.url)
    page = client.get(rich_lesson.url).content.decode()
    assert "Scottish text." in page and "English text." not in page
    assert "Call the wellbeing line." in page and "Crown Office" in page
    assert counted(lambda: client.get(rich_lesson.url)) == first_visit


def test_viewing_a_lesson_again_writes_nothing(rich_lesson, learner) -> None:  # noqa: ANN001
    """No session write (idle timeout and absolute lifetime are kept without one: see
    officers.middleware.SessionLifetimeMiddleware) and no other write on a view that changes
    nothing: the visit is written on the first view only."""
    client = signed_in(learner)
    client.get(rich_lesson.url)  # the first view: the visit, and the session's activity
    key = client.session.session_key
    expiry = Session.objects.get(session_key=key).expire_date
    time.sleep(0.01)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(rich_lesson.url)
    assert response.status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert "sessionid" not in response.cookies
    assert Session.objects.get(session_key=key).expire_date == expiry
