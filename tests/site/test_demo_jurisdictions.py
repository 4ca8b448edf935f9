"""The demo has a force in each of two jurisdictions, with officers, leads and local
information, and courses whose jurisdiction-specific lessons, scenario and bank questions say
whom they are for. Loading it twice changes nothing."""

from __future__ import annotations

import pytest
from django.apps import apps
from wagtail.models import Revision

from courses.models import BankQuestion, CoursePage, LessonPage, LocalInformation
from officers.jurisdictions import Jurisdiction
from officers.models import OfficerProfile, Role, Unit, User
from officers.roles import primary_role
from officers.selectors import officer_jurisdiction, officers_visible_to
from pathways.demo import DEMO_FORCE, DEMO_PASSWORD, EW_FORCE, load_demo
from scenarios.models import Scenario

EMAILS = {
    Jurisdiction.SCOTLAND: ("officer@demo.police.uk", "lead@demo.police.uk"),
    Jurisdiction.ENGLAND_WALES: ("ew.officer@demo.police.uk", "ew.lead@demo.police.uk"),
}


@pytest.fixture
def demo(db) -> dict[str, int]:  # noqa: ANN001
    return load_demo()


def counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_two_forces_each_with_its_jurisdiction(demo) -> None:  # noqa: ANN001
    forces = {u.name: u for u in Unit.get_root_nodes()}
    assert forces[DEMO_FORCE].jurisdiction == Jurisdiction.SCOTLAND
    assert forces[EW_FORCE].jurisdiction == Jurisdiction.ENGLAND_WALES
    ew = forces[EW_FORCE]
    kinds = {u.name: u.kind for u in ew.get_descendants()}
    assert kinds["Central"] == Unit.Kind.DIVISION
    assert kinds["Central Response"] == kinds["Central Neighbourhood"] == Unit.Kind.TEAM


@pytest.mark.parametrize("jurisdiction", list(EMAILS))
def test_each_force_has_a_learner_and_a_lead_who_sees_them(demo, jurisdiction) -> None:  # noqa: ANN001
    officer_email, lead_email = EMAILS[jurisdiction]
    officer = User.objects.get(email=officer_email)
    lead = User.objects.get(email=lead_email)
    assert officer.check_password(DEMO_PASSWORD) and lead.check_password(DEMO_PASSWORD)
    assert primary_role(officer) == Role.LEARNER
    assert primary_role(lead) == Role.TRAINING_LEAD
    assert officer.officer.service_number and officer.officer.unit.depth > 1
    assert officer_jurisdiction(officer) == jurisdiction
    assert officer_jurisdiction(lead) == jurisdiction
    assert officer.officer in officers_visible_to(lead)
    # A lead sees their own force's officers only.
    forces = {p.force_id for p in officers_visible_to(lead)}
    assert forces == {officer.officer.force_id}


def test_the_england_and_wales_force_has_more_officers(demo) -> None:  # noqa: ANN001
    ew = Unit.get_root_nodes().get(name=EW_FORCE)
    profiles = OfficerProfile.objects.filter(force=ew)
    assert profiles.count() >= 5
    assert all(p.unit.path.startswith(ew.path) and p.service_number for p in profiles)
    numbers = [p.service_number for p in profiles]
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("name", [DEMO_FORCE, EW_FORCE])
def test_each_force_has_published_local_information_of_every_kind(demo, name: str) -> None:  # noqa: ANN001
    force = Unit.get_root_nodes().get(name=name)
    texts = LocalInformation.objects.filter(unit=force)
    assert {t.kind for t in texts} == set(LocalInformation.Kind.values)
    division = LocalInformation.objects.filter(unit__path__startswith=force.path, unit__depth=2)
    assert division.count() == 1 and division.get().unit.kind == Unit.Kind.DIVISION
    for text in LocalInformation.objects.filter(unit__path__startswith=force.path):
        assert text.live and text.live_revision_id
        assert Revision.objects.filter(pk=text.live_revision_id).exists()
        # Generic demo text: where to look, not a phone number that may be wrong.
        assert text.body.startswith("Demo text.")
        assert not any(ch.isdigit() for ch in text.body)


def test_jurisdiction_specific_lessons_scenarios_and_questions_say_whom_they_are_for(demo) -> None:  # noqa: ANN001
    course = CoursePage.objects.get(slug="public-health-approach")
    lessons = {lesson.slug: lesson for lesson in LessonPage.objects.descendant_of(course)}
    assert lessons["scotland-recorded-police-warnings"].audience == ["scotland"]
    assert lessons["england-and-wales-diversion"].audience == ["england_wales"]
    assert lessons["practise-possession-stop"].audience == ["scotland"]
    assert lessons["practise-possession-stop-england-wales"].audience == ["england_wales"]
    assert lessons["choosing-the-right-route"].audience == []  # both, each in its switch body
    # A placed scenario is for the officers of the lesson that places it: stored and published.
    stops = []
    for slug in ("practise-possession-stop", "practise-possession-stop-england-wales"):
        stop = Scenario.objects.get(pk=lessons[slug].scenario_ids[0])
        stops.append(stop.pk)
        assert stop.audience == lessons[slug].audience
        assert stop.live_revision.as_object().audience == lessons[slug].audience
        # The published revisions carry it too (what learners are served).
        assert lessons[slug].get_latest_revision_as_object().audience == lessons[slug].audience
    for_everyone = Scenario.objects.exclude(pk__in=stops)
    assert for_everyone.count() == 4 and all(s.audience == [] for s in for_everyone)

    bank = BankQuestion.objects.filter(course=course)
    for code, scheme in (("scotland", "Recorded Police Warning"), ("england_wales", "DIVERT")):
        own = bank.filter(jurisdiction=code)
        assert own.count() >= 5
        assert any(scheme in q.prompt or scheme in str(q.options) for q in own)
        # Enough questions for fresh draws in either jurisdiction.
        usable = bank.filter(live=True, jurisdiction__in=[code, "all"]).count()
        assert usable >= 3 * course.assessment_question_count

    naloxone = CoursePage.objects.get(slug="naloxone-refresher")
    assert naloxone.jurisdiction == "scotland"


def test_loading_twice_changes_nothing(demo) -> None:  # noqa: ANN001
    before = counts()
    forces = list(Unit.objects.order_by("path").values_list("path", "name", "jurisdiction"))
    profiles = list(
        OfficerProfile.objects.order_by("pk").values_list(
            "user__email", "force_id", "unit_id", "service_number"
        )
    )
    again = load_demo()
    assert counts() == before
    assert list(Unit.objects.order_by("path").values_list("path", "name", "jurisdiction")) == forces
    assert (
        list(
            OfficerProfile.objects.order_by("pk").values_list(
                "user__email", "force_id", "unit_id", "service_number"
            )
        )
        == profiles
    )
    assert again["new local information"] == 0


def test_an_existing_force_keeps_the_jurisdiction_an_administrator_chose(demo) -> None:  # noqa: ANN001
    Unit.objects.filter(name=DEMO_FORCE).update(jurisdiction=Jurisdiction.NORTHERN_IRELAND)
    load_demo()
    assert Unit.objects.get(name=DEMO_FORCE).jurisdiction == Jurisdiction.NORTHERN_IRELAND
