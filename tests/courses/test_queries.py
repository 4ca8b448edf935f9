"""Query counts on learner pages do not grow with courses, lessons or officers."""

from __future__ import annotations

import pytest
from django.test import Client

from courses.models import LessonPage
from tests.factories import make_course, make_officer

LESSON_PAGE_MAX = 22
# Fixed costs per request: session, user, profile, Wagtail's site lookup, the routing (the home
# page and the requested page by its URL path: pathways.models.HomePage.route), the page's view
# restrictions, its course and module (once, for the jurisdiction check and the view).
MY_LEARNING_MAX = 13
COURSE_PAGE_MAX = 16


@pytest.fixture
def catalogue(home, org):  # noqa: ANN001, ANN201
    """20 courses of 2 modules x 5 lessons (200 lessons), many officers with progress."""
    courses = [make_course(home, title=f"Course {i:02d}", modules=2, lessons=5) for i in range(20)]
    officers = [make_officer(unit=org.dundee) for _ in range(5)]
    return courses, officers


def progress_everywhere(client: Client, courses) -> None:  # noqa: ANN001
    for course in courses:
        for lesson in LessonPage.objects.live().descendant_of(course).order_by("path")[:3]:
            assert client.post(f"/learning/lessons/{lesson.pk}/complete/").status_code == 302


def test_lesson_page_and_my_learning_have_bounded_queries(
    catalogue, learner, django_assert_max_num_queries
) -> None:
    courses, officers = catalogue
    for officer in officers:
        c = Client()
        c.force_login(officer)
        progress_everywhere(c, courses[:5])
    client = Client()
    client.force_login(learner)
    progress_everywhere(client, courses)
    lesson = LessonPage.objects.live().descendant_of(courses[7]).order_by("path")[4]

    with django_assert_max_num_queries(LESSON_PAGE_MAX):
        response = client.get(lesson.url)
    assert response.status_code == 200
    with django_assert_max_num_queries(MY_LEARNING_MAX):
        response = client.get("/learning/")
    assert response.status_code == 200
    assert response.content.decode().count("3 of 10 lessons done") == 20
    with django_assert_max_num_queries(COURSE_PAGE_MAX):
        assert client.get(courses[3].url).status_code == 200
