"""The shared cache of published content (courses.cache): what every learner sees the same is
kept, a change of content is shown on the next request, and nothing of one officer is shown
to another."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import PageViewRestriction, Site

from courses import cache as content_cache
from courses.models import CoursePage, LessonPage, LocalInformation, ModulePage
from officers.jurisdictions import Jurisdiction
from officers.models import Unit
from tests.factories import add_lesson, make_course, make_officer, make_unit

pytestmark = pytest.mark.usefixtures("no_staff_mfa")

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
SCOTS = "Consider a Recorded Police Warning."
ENGLISH = "Consider a community resolution."


def signed_in(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def lessons_of(course: CoursePage) -> list[LessonPage]:
    return list(LessonPage.objects.live().descendant_of(course).order_by("path"))


def republish(page, **changes) -> None:  # noqa: ANN001
    page = type(page).objects.get(pk=page.pk)
    for name, value in changes.items():
        setattr(page, name, value)
    page.save_revision().publish()


@pytest.fixture
def course(home):  # noqa: ANN001, ANN201
    return make_course(home, title="Cached", modules=2, lessons=2)


@pytest.fixture
def reader(learner) -> Client:  # noqa: ANN001
    return signed_in(learner)


def test_a_published_change_to_a_lesson_is_shown_on_the_next_view(course, reader) -> None:  # noqa: ANN001
    lesson = lessons_of(course)[0]
    assert "Teaching text for Cached lesson 1.1." in text(reader, lesson.url)
    body = [{"type": "text", "value": "<p>Rewritten after review.</p>"}]
    republish(lesson, body=body)
    page = text(reader, lesson.url)
    assert "Rewritten after review." in page and "Teaching text for" not in page


def test_a_saved_draft_is_not_shown(course, reader) -> None:  # noqa: ANN001
    lesson = LessonPage.objects.get(pk=lessons_of(course)[0].pk)
    text(reader, lesson.url)
    lesson.body = [{"type": "text", "value": "<p>Work in progress.</p>"}]
    lesson.title = "Draft title"
    lesson.save_revision()
    page = text(reader, lesson.url)
    assert "Work in progress." not in page and "Teaching text for Cached lesson 1.1." in page
    assert "Draft title" not in text(reader, course.url)


def test_a_renamed_page_is_shown_by_its_new_title_everywhere(course, reader) -> None:  # noqa: ANN001
    first, second = lessons_of(course)[:2]
    module = ModulePage.objects.child_of(course).order_by("path").first()
    for url in (course.url, module.url, first.url, second.url):
        text(reader, url)
    republish(second, title="Naloxone in practice")
    republish(module, title="Opioids")
    assert "Naloxone in practice" in text(reader, course.url)
    assert "Naloxone in practice" in text(reader, module.url)
    assert "Naloxone in practice →" in text(reader, first.url)  # the next lesson
    page = text(reader, second.url)
    assert "<h1>Naloxone in practice</h1>" in page and ">Opioids</a>" in page  # breadcrumb


def test_an_unpublished_lesson_leaves_every_page(course, reader) -> None:  # noqa: ANN001
    first, second, third = lessons_of(course)[:3]
    for url in (course.url, first.url, second.url, third.url):
        text(reader, url)
    LessonPage.objects.get(pk=second.pk).unpublish()
    assert reader.get(second.url).status_code == 404
    assert "Cached lesson 1.2" not in text(reader, course.url)
    page = text(reader, first.url)
    assert "Cached lesson 2.1 →" in page and "Cached lesson 1.2" not in page
    assert "Lesson 1 of 3" in page
    republish(second)
    assert "Lesson 2 of 4" in text(reader, second.url)


def test_a_moved_lesson_is_found_at_its_new_address(course, reader) -> None:  # noqa: ANN001
    lesson = lessons_of(course)[0]
    old_url = lesson.url
    target = ModulePage.objects.child_of(course).order_by("path").last()
    text(reader, old_url)
    text(reader, course.url)
    LessonPage.objects.get(pk=lesson.pk).move(target, pos="last-child")
    moved = LessonPage.objects.get(pk=lesson.pk)
    assert moved.url != old_url
    old = reader.get(old_url)  # Wagtail's redirect from where it was
    assert old.status_code == 301 and old["Location"] == moved.url
    page = text(reader, moved.url)
    assert f">{target.title}</a>" in page  # the breadcrumb names the new module
    assert f'href="{moved.url}"' in text(reader, course.url)


def test_a_deleted_lesson_is_gone(course, reader) -> None:  # noqa: ANN001
    first, second = lessons_of(course)[:2]
    text(reader, first.url)
    text(reader, course.url)
    LessonPage.objects.get(pk=second.pk).delete()
    assert "Cached lesson 1.2" not in text(reader, course.url)
    assert "Cached lesson 1.2" not in text(reader, first.url)


def test_a_new_view_restriction_applies_at_once(course, reader) -> None:  # noqa: ANN001
    lesson = lessons_of(course)[0]
    text(reader, lesson.url)
    restriction = PageViewRestriction.objects.create(
        page=course, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="Nobody"))
    assert reader.get(lesson.url).status_code != 200
    restriction.delete()
    assert reader.get(lesson.url).status_code == 200


# --- What varies between officers --------------------------------------------------------


@pytest.fixture
def forces(org):  # noqa: ANN001, ANN201
    """Police Scotland (Scotland) and the Met (England and Wales)."""
    org.force.jurisdiction = Jurisdiction.SCOTLAND
    org.force.save(update_fields=["jurisdiction"])
    org.other_force.jurisdiction = Jurisdiction.ENGLAND_WALES
    org.other_force.save(update_fields=["jurisdiction"])
    org.met_team = make_unit("Westminster Response", org.other_force, Unit.Kind.TEAM)
    return org


@pytest.fixture
def mixed(home, forces):  # noqa: ANN001, ANN201
    """A lesson with a switch, a reference for each jurisdiction, a question and local text."""
    course = make_course(home, title="Diversion", modules=1, lessons=1)
    module = ModulePage.objects.child_of(course).get()
    for unit, body in ((forces.force, "Scottish welfare line."), (forces.other_force, "Met line.")):
        item = LocalInformation(unit=unit, kind="welfare", body=body)
        item.save()
        item.save_revision().publish()
    return add_lesson(
        module,
        "Options",
        slug="options",
        body=[
            {
                "type": "jurisdiction_switch",
                "value": {
                    "heading": "What you can offer",
                    "scotland": f"<p>{SCOTS}</p>",
                    "england_wales": f"<p>{ENGLISH}</p>",
                    "northern_ireland": "",
                },
            },
            {
                "type": "question",
                "value": {
                    "prompt": "Which applies?",
                    "multiple": False,
                    "options": [
                        {"text": "This", "correct": True, "feedback": "Well.", "pinned": False},
                        {"text": "That", "correct": False, "feedback": "Not so.", "pinned": False},
                    ],
                },
            },
            {"type": "local_information", "value": {"kind": "welfare", "lead_in": ""}},
            {
                "type": "citation",
                "value": {"source": "Crown Office", "audience": [Jurisdiction.SCOTLAND]},
            },
            {
                "type": "citation",
                "value": {"source": "Home Office", "audience": [Jurisdiction.ENGLAND_WALES]},
            },
        ],
    )


@pytest.mark.parametrize("scots_first", [True, False])
def test_each_jurisdiction_gets_its_own_cached_body(mixed, forces, scots_first) -> None:  # noqa: ANN001
    scot = signed_in(make_officer(unit=forces.dundee))
    met = signed_in(make_officer(unit=forces.met_team))
    order = [(scot, True), (met, False)]
    for client, is_scot in order if scots_first else reversed(order):
        for _ in range(2):  # the first view keeps the body, the second reads it
            page = text(client, mixed.url)
            mine, theirs = (SCOTS, ENGLISH) if is_scot else (ENGLISH, SCOTS)
            own, other = (
                ("Crown Office", "Home Office") if is_scot else ("Home Office", "Crown Office")
            )
            assert mine in page and theirs not in page
            assert own in page and other not in page


def test_an_officers_answers_and_local_text_are_theirs_alone(mixed, forces) -> None:  # noqa: ANN001
    answering = make_officer(unit=forces.dundee)
    colleague = make_officer(unit=forces.dundee)
    met = make_officer(unit=forces.met_team)
    client = signed_in(answering)
    text(client, mixed.url)
    question = mixed.body[mixed.block_positions("question")[0]]
    wrong = question.value["options"].bound_blocks[1].id
    client.post(
        f"/learning/lessons/{mixed.pk}/check/", {"question": question.id, "chosen": [wrong]}
    )
    mine = text(client, mixed.url)
    assert "Not so." in mine and "checked" in mine
    theirs = text(signed_in(colleague), mixed.url)
    assert "Not so." not in theirs and " checked" not in theirs
    assert "Scottish welfare line." in theirs and "Met line." not in theirs
    in_the_met = text(signed_in(met), mixed.url)
    assert "Met line." in in_the_met and "Scottish welfare line." not in in_the_met


def test_a_view_as_preview_is_not_kept_for_officers(mixed, forces, home) -> None:  # noqa: ANN001
    """The author's "view as" marks the switch block as a preview: officers never see it."""
    from officers.models import Role

    author = make_officer(unit=forces.force, role=Role.AUTHOR)
    preview = text(signed_in(author), f"/learning/lessons/{mixed.pk}/as/scotland/")
    assert "Preview: as an officer in" in preview
    page = text(signed_in(make_officer(unit=forces.dundee)), mixed.url)
    assert SCOTS in page and "Preview:" not in page


# --- The version and what changes it -----------------------------------------------------


def changes_version(action) -> bool:  # noqa: ANN001
    before = content_cache.content_version()
    action()
    return content_cache.content_version() != before


def test_what_changes_the_content_version(course, org) -> None:  # noqa: ANN001
    from wagtail.images.models import Image

    lesson = LessonPage.objects.get(pk=lessons_of(course)[0].pk)
    assert not changes_version(lambda: lesson.save_revision())  # a draft
    assert changes_version(lambda: lesson.save_revision().publish())
    assert changes_version(lambda: LessonPage.objects.get(pk=lesson.pk).unpublish())
    site = Site.objects.get()
    assert changes_version(lambda: site.save())
    assert changes_version(lambda: Image.objects.create(title="Map", file=get_test_image_file()))
    # Nothing an officer does changes it.
    client = signed_in(make_officer(unit=org.dundee))
    assert not changes_version(lambda: client.get(lessons_of(course)[1].url))


def test_pages_are_the_same_with_the_content_cache_off(course, reader, settings) -> None:  # noqa: ANN001
    lesson = lessons_of(course)[1]
    with_cache = [text(reader, url) for url in (lesson.url, course.url, "/learning/")]
    settings.PATHWAYS_CONTENT_CACHE = False
    assert content_cache.content_version() is None
    without = [text(reader, url) for url in (lesson.url, course.url, "/learning/")]
    for cached, uncached in zip(with_cache, without, strict=True):
        assert CSRF.sub("", uncached).split() == CSRF.sub("", cached).split()


def test_only_the_blocks_that_are_the_same_for_everyone_are_kept() -> None:
    """Every kind of lesson block is either kept rendered (the same for every officer of a
    jurisdiction) or rendered for each request: a new kind is rendered for each request until
    someone decides it may be kept."""
    from courses.blocks import LessonStreamBlock
    from courses.selectors import OUTSIDE_BODY_BLOCKS, SHARED_BLOCKS

    kinds = set(LessonStreamBlock().child_blocks)
    assert kinds >= SHARED_BLOCKS | OUTSIDE_BODY_BLOCKS
    per_officer = kinds - SHARED_BLOCKS - OUTSIDE_BODY_BLOCKS
    assert per_officer == {"question", "scenario", "local_information"}
