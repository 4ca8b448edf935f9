"""Jurisdiction switch and force-local information blocks, their "view as" previews, and the
local information snippet as training leads keep it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from courses.blocks import local_texts_for
from courses.models import LessonPage, LocalInformation, ModulePage
from officers.jurisdictions import Jurisdiction
from officers.models import Role, Unit
from tests.factories import add_lesson, make_course, make_officer, make_unit

SCOTS = "Consider a Recorded Police Warning under the Lord Advocate's guidelines."
ENGLISH = "Consider a community resolution or an adult diversion scheme."
LIST = "/admin/snippets/courses/localinformation/"

pytestmark = pytest.mark.usefixtures("no_staff_mfa")


@pytest.fixture
def forces(org):  # noqa: ANN001, ANN201
    """Police Scotland (Scotland), the Met (England and Wales), and a force with none set."""
    org.force.jurisdiction = Jurisdiction.SCOTLAND
    org.force.save(update_fields=["jurisdiction"])
    org.other_force.jurisdiction = Jurisdiction.ENGLAND_WALES
    org.other_force.save(update_fields=["jurisdiction"])
    org.met_central = make_unit("Central", org.other_force, Unit.Kind.DIVISION)
    org.met_team = make_unit("Westminster Response", org.met_central)
    org.unset = make_unit("New Force")
    org.unset_team = make_unit("Day Shift", org.unset)
    return org


@pytest.fixture
def lesson(home):  # noqa: ANN001, ANN201
    course = make_course(home, title="Direct measures", modules=1, lessons=1)
    module = ModulePage.objects.child_of(course).get()
    return add_lesson(
        module,
        "Diversion",
        slug="diversion",
        body=[
            {"type": "text", "value": "<p>Teaching text.</p>"},
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
                "type": "local_information",
                "value": {"kind": "arrest_referral", "lead_in": "Refer locally:"},
            },
            {"type": "local_information", "value": {"kind": "welfare", "lead_in": ""}},
        ],
    )


def page_for(user, lesson: LessonPage) -> str:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    response = client.get(lesson.url)
    assert response.status_code == 200
    return response.content.decode()


def local(unit: Unit, kind: str, body: str, *, live: bool = True) -> LocalInformation:
    item = LocalInformation(unit=unit, kind=kind, body=body, live=live)
    item.save()
    if live:
        item.save_revision().publish()
    return item


# ------------------------------------------------------------------ the jurisdiction switch


def test_an_officer_in_scotland_is_sent_only_the_scottish_text(forces, lesson, learner) -> None:
    body = page_for(learner, lesson)
    assert "What you can offer" in body and SCOTS in body
    assert ENGLISH not in body and "community resolution" not in body


def test_an_officer_in_england_and_wales_is_sent_only_theirs(forces, lesson) -> None:
    officer = make_officer(unit=forces.met_team)
    body = page_for(officer, lesson)
    assert "What you can offer" in body and ENGLISH in body
    assert SCOTS not in body and "Recorded Police Warning" not in body


def test_no_jurisdiction_gets_neither_text_and_whom_to_ask(forces, lesson) -> None:
    body = page_for(make_officer(unit=forces.unset_team), lesson)
    assert "What you can offer" in body
    assert SCOTS not in body and ENGLISH not in body
    assert "Your force&#x27;s jurisdiction is not set." in body or (
        "Your force's jurisdiction is not set." in body
    )
    assert "training lead" in body


def test_northern_ireland_without_its_text_is_told_so(forces, lesson) -> None:
    forces.unset.jurisdiction = Jurisdiction.NORTHERN_IRELAND
    forces.unset.save(update_fields=["jurisdiction"])
    body = page_for(make_officer(unit=forces.unset_team), lesson)
    assert SCOTS not in body and ENGLISH not in body
    assert "not been written for officers in Northern Ireland" in body


@pytest.mark.parametrize(
    ("mode", "shown", "absent"),
    [
        ("scotland", SCOTS, ENGLISH),
        ("england_wales", ENGLISH, SCOTS),
        ("", SCOTS, ENGLISH),  # an old link with no mode: the first mode
    ],
)
def test_previews_as_each_jurisdiction(forces, lesson, administrator, mode, shown, absent) -> None:  # noqa: ANN001
    client = Client()
    client.force_login(administrator)
    url = f"/admin/pages/{lesson.pk}/revisions/{lesson.latest_revision_id}/view/?mode={mode}"
    body = client.get(url).content.decode()
    assert shown in body and absent not in body
    assert "Preview: as an officer in" in body
    # Local information in a preview is a sample naming the kind, never a force's text.
    assert "Sample (preview)" in body and "Arrest referral or local drug service" in body


def test_preview_with_no_jurisdiction_and_the_modes_offered(forces, lesson, administrator) -> None:
    assert [mode for mode, _label in lesson.preview_modes] == [
        "scotland",
        "england_wales",
        "northern_ireland",
        "no_jurisdiction",
    ]
    client = Client()
    client.force_login(administrator)
    url = f"/admin/pages/{lesson.pk}/revisions/{lesson.latest_revision_id}/view/"
    body = client.get(url + "?mode=no_jurisdiction").content.decode()
    assert SCOTS not in body and ENGLISH not in body
    assert "jurisdiction is not set" in body


# --------------------------------------------------------------- force-local information


def test_division_text_wins_over_force_text(forces, lesson, learner) -> None:
    local(forces.force, "arrest_referral", "Force-wide: call the Scottish Drugs Forum.")
    local(forces.north, "arrest_referral", "North: refer to the Tayside arrest referral team.")
    local(forces.force, "welfare", "Occupational health: extension 4400.")
    body = page_for(learner, lesson)
    assert "Refer locally:" in body
    assert "Tayside arrest referral team" in body and "Force-wide" not in body
    assert "extension 4400" in body  # no division text for welfare: the force's


def test_only_the_officers_own_force_and_an_honest_fallback(forces, lesson, learner) -> None:
    local(forces.other_force, "arrest_referral", "Met: call the Westminster DIP team.")
    local(forces.east, "welfare", "East division welfare line.")  # another division
    body = page_for(learner, lesson)
    assert "Westminster DIP" not in body and "East division welfare" not in body
    assert body.count("Your force has not set this yet. Ask your training lead.") == 2


def test_unpublished_drafts_are_not_shown(forces, lesson, learner) -> None:
    local(forces.force, "arrest_referral", "Draft: not yet agreed.", live=False)
    item = local(forces.force, "welfare", "Published welfare text.")
    item.body = "Draft change to welfare."
    item.save_revision()  # a draft on a live snippet: the row keeps the published text
    body = page_for(learner, lesson)
    assert "not yet agreed" not in body and "Draft change" not in body
    assert "Published welfare text." in body


def test_local_texts_take_one_query_for_every_kind(forces, learner) -> None:
    for kind in LocalInformation.Kind.values:
        local(forces.force, kind, f"force {kind}")
        local(forces.north, kind, f"north {kind}")
    with CaptureQueriesContext(connection) as queries:
        texts = local_texts_for(learner)
    assert len(queries) == 1
    assert texts == {kind: f"north {kind}" for kind in LocalInformation.Kind.values}


def test_a_lesson_with_local_blocks_costs_one_query_more_at_most(forces, lesson, learner) -> None:
    client = Client()
    client.force_login(learner)
    client.get(lesson.url)
    with CaptureQueriesContext(connection) as queries:
        client.get(lesson.url)
    local_queries = [q for q in queries if "courses_localinformation" in q["sql"]]
    assert len(local_queries) == 1


# ---------------------------------------------------------------- the snippet, for leads


def form(unit: Unit, kind: str = "arrest_referral", body: str = "Call the DIP team.") -> dict:
    return {"unit": unit.pk, "kind": kind, "body": body, "action-publish": "action-publish"}


@pytest.fixture
def north_client(north_lead) -> Client:  # noqa: ANN001
    client = Client(raise_request_exception=False)
    client.force_login(north_lead)
    return client


def test_a_lead_lists_and_edits_only_their_units(forces, north_client) -> None:
    north = local(forces.north, "arrest_referral", "North's text.")
    east = local(forces.east, "arrest_referral", "East's text.")
    met = local(forces.other_force, "welfare", "The Met's text.")
    listing = north_client.get(LIST).content.decode()
    assert "North" in listing
    assert "East" not in listing and "Metropolitan" not in listing
    assert north_client.get(f"{LIST}edit/{north.pk}/").status_code == 200
    for other in (east, met):
        for route in ("edit", "delete", "history", "usage", "unpublish"):
            response = north_client.get(f"{LIST}{route}/{other.pk}/")
            assert response.status_code in (403, 404), (route, response.status_code)
        response = north_client.post(f"{LIST}edit/{other.pk}/", form(forces.north))
        assert response.status_code in (403, 404)
    assert LocalInformation.objects.get(pk=east.pk).body == "East's text."
    # Nor through the chooser, or a bulk delete.
    chooser = north_client.get("/admin/snippets/choose/courses/localinformation/")
    assert "East" not in chooser.content.decode()
    bulk = f"/admin/bulk/courses/localinformation/delete/?id={east.pk}"
    north_client.post(bulk, {})
    assert LocalInformation.objects.filter(pk=east.pk).exists()


def test_a_lead_publishes_for_their_division_and_cannot_choose_another(
    forces, north_client
) -> None:
    page = north_client.get(f"{LIST}add/").content.decode()
    assert "Police Scotland / North" in page and "East" not in page
    response = north_client.post(f"{LIST}add/", form(forces.north))
    assert response.status_code == 302
    item = LocalInformation.objects.get(unit=forces.north)
    assert item.live and item.body == "Call the DIP team."
    response = north_client.post(f"{LIST}add/", form(forces.other_force, "welfare"))
    assert response.status_code == 200
    assert "only for the units you lead" in response.content.decode()
    assert not LocalInformation.objects.filter(unit=forces.other_force).exists()


def test_bad_input_is_refused_with_a_clear_message(forces, administrator) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(administrator)
    response = client.post(f"{LIST}add/", form(forces.tayside))  # a division, at depth 3
    assert response.status_code == 200
    assert "for a whole force or for one of its divisions" in response.content.decode()
    local(forces.north, "arrest_referral", "Already here.")
    response = client.post(f"{LIST}add/", form(forces.north))
    assert response.status_code == 200
    assert "North already has local information of this kind" in response.content.decode()
    for data in ({}, {"unit": "x", "kind": "nonsense"}, {"unit": "999999", "kind": ""}):
        assert client.post(f"{LIST}add/", data).status_code == 200
    assert LocalInformation.objects.count() == 1


def test_authors_and_learners_cannot_open_local_information(forces, learner) -> None:
    author = make_officer(unit=forces.east, role=Role.AUTHOR)
    for user in (author, learner):
        client = Client()
        client.force_login(user)
        assert client.get(LIST).status_code in (302, 403)


# --------------------------------------------------------- "view as" for leads and authors


def test_a_lead_sees_a_lesson_as_an_officer_in_each_jurisdiction(
    forces, lesson, north_lead
) -> None:  # noqa: ANN001
    """Leads cannot use Wagtail's page preview (they do not edit pages): the lesson page links
    them to a read-only view as an officer of each jurisdiction; nothing is recorded."""
    from courses.models import LessonVisit

    client = Client()
    client.force_login(north_lead)
    page = client.get(lesson.url).content.decode()
    url = f"/learning/lessons/{lesson.pk}/as/england_wales/"
    assert url in page
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200 and ENGLISH in body and SCOTS not in body
    assert "private" in response["Cache-Control"]
    body = client.get(f"/learning/lessons/{lesson.pk}/as/scotland/").content.decode()
    assert SCOTS in body and ENGLISH not in body
    visits = LessonVisit.objects.filter(user=north_lead).count()
    client.get(url)
    assert LessonVisit.objects.filter(user=north_lead).count() == visits
    assert client.get(f"/learning/lessons/{lesson.pk}/as/atlantis/").status_code == 404


def test_learners_have_no_view_as(forces, lesson, learner) -> None:  # noqa: ANN001
    client = Client()
    client.force_login(learner)
    assert f"/learning/lessons/{lesson.pk}/as/" not in client.get(lesson.url).content.decode()
    assert client.get(f"/learning/lessons/{lesson.pk}/as/england_wales/").status_code == 404
