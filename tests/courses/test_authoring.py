"""An author builds a lesson with every block type in the Wagtail admin and previews it."""

from __future__ import annotations

import io

import pytest
from django.core.files.images import ImageFile
from django.test import Client
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from courses.demo import course_index, grant_author_permissions
from courses.models import LessonPage, ModulePage
from officers.models import Role
from tests.factories import make_course, make_officer
from tests.scenarios.conftest import DOC, publish_document


@pytest.fixture
def author(org, home, no_staff_mfa, settings):  # noqa: ANN001, ANN201
    settings.WAGTAILEMBEDS_FINDERS = [{"class": "tests.fakes.FakeVideoFinder"}]
    grant_author_permissions(course_index(home))
    user = make_officer(unit=org.east, role=Role.AUTHOR)
    client = Client()
    client.force_login(user)
    return client


def a_picture():  # noqa: ANN201
    buffer = io.BytesIO()
    PILImage.new("RGB", (40, 30), "navy").save(buffer, "PNG")
    return get_image_model().objects.create(
        title="Naloxone kit", file=ImageFile(buffer, name="kit.png")
    )


def lesson_form(image_id: int, scenario_id: int, **overrides: object) -> dict:
    question = {
        "prompt": "What comes first?",
        "multiple": "",
        "options": streamfield(
            [
                ("item", {"text": "Call 999", "correct": "on", "feedback": "Yes."}),
                ("item", {"text": "Search pockets", "correct": "", "feedback": "No."}),
            ]
        ),
    }
    body = [
        ("content_warning", {"contains": "Overdose.", "support": "Wellbeing service."}),
        ("text", rich_text("<p>Every block in one lesson.</p>")),
        ("image", {"image": image_id, "alt_text": "A nasal naloxone kit", "caption": "Kit"}),
        (
            "video",
            {
                "title": "Giving naloxone",
                "video": "https://www.youtube.com/watch?v=abc",
                "transcript": "Call 999. Check it is safe.",
            },
        ),
        ("key_message", {"heading": "Call 999", "text": "Naloxone buys time."}),
        ("question", question),
        ("citation", {"source": "naloxone.org.uk", "title": "", "year": "", "url": "", "note": ""}),
        ("scenario", {"scenario": scenario_id}),
    ]
    data = {
        "title": "Every block",
        "slug": "every-block",
        "summary": "All of them.",
        "duration_minutes": 5,
        "outcomes": streamfield([("outcome", "give nasal naloxone in the right order")]),
        "body": streamfield(body),
    }
    data.update(overrides)
    return nested_form_data(data)


def test_author_creates_a_lesson_with_every_block_and_previews_it(author, home) -> None:
    course = make_course(home, title="Authoring", modules=1, lessons=1)
    module = ModulePage.objects.child_of(course).get()
    image, scenario = a_picture(), publish_document(DOC)
    url = f"/admin/pages/add/courses/lessonpage/{module.pk}/"
    assert author.get(url).status_code == 200

    response = author.post(url, lesson_form(image.pk, scenario.pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    lesson = LessonPage.objects.get(slug="every-block")
    assert not lesson.live  # saved as a draft
    types = [block.block_type for block in lesson.get_latest_revision_as_object().body]
    assert types == [
        "content_warning",
        "text",
        "image",
        "video",
        "key_message",
        "question",
        "citation",
        "scenario",
    ]

    preview = f"/admin/pages/{lesson.pk}/edit/preview/"
    assert author.post(preview, lesson_form(image.pk, scenario.pk)).json()["is_valid"]
    body = author.get(preview).content.decode()
    assert "Content warning" in body and "Overdose." in body
    for text in (
        "Every block in one lesson.",
        'alt="A nasal naloxone kit"',
        "Call 999. Check it is safe.",
        "Naloxone buys time.",
        "What comes first?",
        "naloxone.org.uk",
        "Stairwell",
        "By the end of this lesson you can",
        "give nasal naloxone in the right order",
    ):
        assert text in body, text
    # The citation is listed under References at the end, not where it was placed.
    assert body.index("References") > body.index("What comes first?")


@pytest.mark.parametrize("field", ["body", "outcomes"])
@pytest.mark.parametrize("count", [None, "x", "-1", "12", "100000"])
def test_a_forged_stream_count_is_refused_with_a_message_not_a_500(
    author, home, field: str, count: str | None
) -> None:
    course = make_course(home, title="Forged", modules=1, lessons=1)
    module = ModulePage.objects.child_of(course).get()
    image, scenario = a_picture(), publish_document(DOC)
    data = lesson_form(image.pk, scenario.pk)
    if count is None:
        del data[f"{field}-count"]
    else:
        data[f"{field}-count"] = count
    data["action-publish"] = "1"
    response = author.post(f"/admin/pages/add/courses/lessonpage/{module.pk}/", data)
    if field == "body":  # the content is required: refused, nothing saved
        assert response.status_code == 200
        assert not LessonPage.objects.filter(slug="every-block").exists()
    else:  # outcomes are optional: read as none
        assert response.status_code == 302
        assert not LessonPage.objects.get(slug="every-block").outcomes


def test_an_image_without_alt_text_is_refused(author, home) -> None:
    course = make_course(home, title="Alt text", modules=1, lessons=1)
    module = ModulePage.objects.child_of(course).get()
    image, scenario = a_picture(), publish_document(DOC)
    data = lesson_form(image.pk, scenario.pk)
    key = next(k for k in data if k.endswith("-value-alt_text"))
    data[key] = ""
    data["action-publish"] = "1"
    response = author.post(f"/admin/pages/add/courses/lessonpage/{module.pk}/", data)
    assert response.status_code == 200
    assert not LessonPage.objects.filter(slug="every-block").exists()


def test_a_question_needs_a_correct_answer(author, home) -> None:
    course = make_course(home, title="Questions", modules=1, lessons=1)
    module = ModulePage.objects.child_of(course).get()
    image, scenario = a_picture(), publish_document(DOC)
    data = lesson_form(image.pk, scenario.pk)
    for key in [k for k in data if k.endswith("-value-correct")]:
        data[key] = ""
    data["action-publish"] = "1"
    response = author.post(f"/admin/pages/add/courses/lessonpage/{module.pk}/", data)
    assert "Mark at least one answer correct." in response.content.decode()
    assert not LessonPage.objects.filter(slug="every-block").exists()
