"""Jurisdiction-aware learning: each officer is shown, required and assessed on their own
jurisdiction's content only, and certified for it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from certificates.models import Certificate
from certificates.rendering import certificate_data
from certificates.services import certificate_issue
from courses.assessment import assessment_answer, assessment_start, assessment_submit
from courses.models import (
    AssessmentAnswer,
    BankQuestion,
    CoursePage,
    Enrolment,
    LessonCompletion,
    LessonPage,
    ModulePage,
)
from courses.rules import (
    CourseContent,
    LessonContent,
    ModuleContent,
    ScenarioContent,
    audience_includes,
    bank_jurisdictions,
    course_withheld,
    outline_for,
)
from courses.selectors import course_outline, courses_open_to
from officers.models import User
from scenarios.demo import demo_scenario
from scenarios.models import Attempt, Scenario
from tests.factories import add_lesson, make_course, make_officer, make_unit, set_jurisdiction

SCOTLAND, ENGLAND_WALES = "scotland", "england_wales"


# --- the rule, without a database ---------------------------------------------------------------


def test_audience_includes() -> None:
    assert audience_includes([], SCOTLAND) and audience_includes((), None)
    assert audience_includes([SCOTLAND], SCOTLAND)
    assert not audience_includes([SCOTLAND], ENGLAND_WALES)
    assert not audience_includes([SCOTLAND, ENGLAND_WALES], None)  # unknown: "all" only
    assert bank_jurisdictions(SCOTLAND) == ("all", SCOTLAND)
    assert bank_jurisdictions(None) == ("all",)
    assert course_withheld(SCOTLAND, ENGLAND_WALES) and not course_withheld(SCOTLAND, None)
    assert not course_withheld("all", ENGLAND_WALES)


def test_outline_for_each_jurisdiction() -> None:
    content = CourseContent(
        course_id=1,
        modules=(
            ModuleContent(
                id=10,
                lessons=(
                    LessonContent(id=11, scenarios=(ScenarioContent(5, (SCOTLAND,)),)),
                    LessonContent(id=12, audience=(SCOTLAND,)),
                    LessonContent(id=13, audience=(ENGLAND_WALES,)),
                ),
            ),
            ModuleContent(id=20, audience=(ENGLAND_WALES,), lessons=(LessonContent(id=21),)),
        ),
    )
    scot, ew, unknown = (outline_for(content, j) for j in (SCOTLAND, ENGLAND_WALES, None))
    assert [lesson.id for lesson in scot.lessons] == [11, 12]
    assert scot.scenario_ids == {5}
    assert [lesson.id for lesson in ew.lessons] == [11, 13, 21]
    assert ew.scenario_ids == frozenset()
    assert [lesson.id for lesson in unknown.lessons] == [11]
    assert unknown.jurisdiction_unknown and not unknown.completable
    assert not scot.jurisdiction_unknown
    limited = CourseContent(course_id=2, modules=content.modules[:1], jurisdiction=SCOTLAND)
    assert outline_for(limited, ENGLAND_WALES).lessons == ()
    assert outline_for(limited, None).lessons == ()
    assert outline_for(limited, None).jurisdiction_unknown
    general = CourseContent(course_id=3, modules=(ModuleContent(30, (), (LessonContent(31),)),))
    assert not outline_for(general, None).jurisdiction_unknown


# --- the database ----------------------------------------------------------------------------


@dataclass
class World:
    course: CoursePage
    general: LessonPage
    rpw: LessonPage
    divert: LessonPage
    scenario: Scenario
    scot: User
    ew: User
    unset: User


def question(course: CoursePage, n: int, jurisdiction: str) -> BankQuestion:
    options = [
        {"type": "option", "value": {"text": f"Q{n} right", "correct": True}},
        {"type": "option", "value": {"text": f"Q{n} wrong", "correct": False}},
    ]
    made = BankQuestion(
        course=course, prompt=f"{jurisdiction} question {n}?", jurisdiction=jurisdiction
    )
    made.options = options
    made.save()
    made.save_revision().publish()
    return made


@pytest.fixture
def world(home, org) -> World:  # noqa: ANN001
    set_jurisdiction(org.force, SCOTLAND)
    set_jurisdiction(org.other_force, ENGLAND_WALES)
    westminster = make_unit("Westminster Response", org.other_force)
    course = make_course(
        home,
        title="Drug possession",
        modules=1,
        lessons=1,
        validity_months=12,
        assessment_question_count=4,
        assessment_pass_mark=100,
    )
    module = ModulePage.objects.child_of(course).get()
    general = LessonPage.objects.child_of(module).get()
    scenario = demo_scenario("overdose-stairwell.json")
    scenario.audience = [SCOTLAND]
    scenario.save()
    scenario.save_revision().publish()
    general.body = [
        *general.body.raw_data,
        {"type": "scenario", "value": {"scenario": scenario.pk}},
    ]
    general.save_revision().publish()
    general.refresh_from_db()
    rpw = add_lesson(module, "Recorded Police Warnings", slug="rpw", audience=[SCOTLAND])
    divert = add_lesson(module, "Diversion schemes", slug="divert", audience=[ENGLAND_WALES])
    for n, code in enumerate(["all", "all", SCOTLAND, SCOTLAND, ENGLAND_WALES, ENGLAND_WALES]):
        question(course, n, code)
    return World(
        course=course,
        general=general,
        rpw=rpw,
        divert=divert,
        scenario=scenario,
        scot=make_officer(unit=org.dundee),
        ew=make_officer(unit=westminster),
        unset=make_officer(unit=make_unit("Force without a jurisdiction")),
    )


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pass_scenario(user: User, scenario: Scenario) -> None:
    scenario = Scenario.objects.get(pk=scenario.pk)
    Attempt.objects.create(
        user=user,
        scenario=scenario,
        revision_id=scenario.live_revision_id or scenario.latest_revision_id,
        current_step="end",
        finished_at=timezone.now(),
        outcome="pass",
        percent=100,
        passed=True,
    )


def finish(client: Client, user: User, world: World) -> Certificate:
    """Mark the officer's lessons complete and pass the assessment; their certificate."""
    for lesson in LessonPage.objects.live().descendant_of(world.course).order_by("path"):
        client.post(f"/learning/lessons/{lesson.pk}/complete/")
    attempt = assessment_start(user=user, course_id=world.course.pk)
    for answer in attempt.answers.all():
        right = [c["id"] for c in answer.snapshot["options"] if c["correct"]]
        assessment_answer(user=user, attempt_id=attempt.pk, position=answer.position, values=right)
    assert assessment_submit(user=user, attempt_id=attempt.pk).course_completed
    return Certificate.objects.get(user=user, course=world.course)


def test_each_officer_has_their_own_outline_and_completes_it(world: World) -> None:
    scot = course_outline(world.course, jurisdiction=SCOTLAND)
    ew = course_outline(world.course, jurisdiction=ENGLAND_WALES)
    assert [lesson.id for lesson in scot.lessons] == [world.general.pk, world.rpw.pk]
    assert [lesson.id for lesson in ew.lessons] == [world.general.pk, world.divert.pk]
    assert scot.scenario_ids == {world.scenario.pk} and not ew.scenario_ids

    # England and Wales: no Scottish lesson, scenario or question, and a certificate for E&W.
    ew_client = client_for(world.ew)
    certificate = finish(ew_client, world.ew, world)
    done = set(LessonCompletion.objects.filter(enrolment__user=world.ew).values_list("lesson_id"))
    assert done == {(world.general.pk,), (world.divert.pk,)}
    drawn = AssessmentAnswer.objects.filter(attempt__user=world.ew)
    assert set(drawn.values_list("question__jurisdiction", flat=True)) <= {"all", ENGLAND_WALES}
    assert certificate.jurisdiction == ENGLAND_WALES
    assert certificate_data(certificate).jurisdiction == "England and Wales"
    page = client_for(world.ew).get(f"/certificates/verify/{certificate.code}/").content.decode()
    assert "England and Wales" in page

    # Scotland: the scenario is required, the E&W lesson is not.
    scot_client = client_for(world.scot)
    for lesson in (world.general, world.rpw):
        scot_client.post(f"/learning/lessons/{lesson.pk}/complete/")
    assert not LessonCompletion.objects.filter(
        enrolment__user=world.scot, lesson=world.general
    ).exists()  # the scenario is not passed yet
    pass_scenario(world.scot, world.scenario)
    certificate = finish(scot_client, world.scot, world)
    drawn = AssessmentAnswer.objects.filter(attempt__user=world.scot)
    assert set(drawn.values_list("question__jurisdiction", flat=True)) <= {"all", SCOTLAND}
    assert certificate.jurisdiction == SCOTLAND
    assert certificate_data(certificate).jurisdiction == "Scotland"


def test_nobody_is_shown_the_other_jurisdictions_content(world: World) -> None:
    scot, ew = client_for(world.scot), client_for(world.ew)
    assert scot.get(world.divert.url).status_code == 404
    assert ew.get(world.rpw.url).status_code == 404
    assert scot.get(world.rpw.url).status_code == 200
    assert scot.post(f"/learning/lessons/{world.divert.pk}/complete/").status_code == 404
    # The Scottish scenario is not on the shared lesson for E&W, and is for Scotland.
    ew_page = ew.get(world.general.url).content.decode()
    scot_page = scot.get(world.general.url).content.decode()
    assert world.scenario.title not in ew_page and world.scenario.title in scot_page
    # The course page lists only their own lessons.
    ew_course = ew.get(world.course.url).content.decode()
    assert world.divert.title in ew_course and world.rpw.title not in ew_course
    assert "England and Wales" in ew_course
    # Search never finds the other jurisdiction's lesson.
    assert world.rpw.title not in ew.get("/learning/search/?q=Recorded").content.decode()
    assert world.rpw.title in scot.get("/learning/search/?q=Recorded").content.decode()


def test_a_course_limited_to_one_jurisdiction(world: World, home) -> None:  # noqa: ANN001
    limited = make_course(home, title="Scottish warnings", modules=1, lessons=1)
    limited.jurisdiction = SCOTLAND
    limited.save_revision().publish()
    ew, scot = client_for(world.ew), client_for(world.scot)
    assert ew.get(limited.url).status_code == 404
    assert scot.get(limited.url).status_code == 200
    index = limited.get_parent().url
    assert "Scottish warnings" not in ew.get(index).content.decode()
    assert "Scottish warnings" in scot.get(index).content.decode()
    assert "Scottish warnings" not in ew.get("/learning/").content.decode()
    assert ew.post(f"/learning/courses/{limited.pk}/start/").status_code == 404
    # The filter agrees with the rule, for every officer.
    for user in (world.scot, world.ew, world.unset):
        from officers.selectors import officer_jurisdiction

        code = officer_jurisdiction(user)
        shown = set(courses_open_to(user, CoursePage.objects.live()).values_list("pk", flat=True))
        expected = {
            c.pk for c in CoursePage.objects.live() if not course_withheld(c.jurisdiction, code)
        }
        assert shown == expected


def test_an_officer_without_a_jurisdiction_is_told_why_and_cannot_complete(
    world: World,
) -> None:
    client = client_for(world.unset)
    page = client.get(world.course.url).content.decode()
    assert "You cannot complete this course yet" in page and "training lead" in page
    response = client.post(f"/learning/lessons/{world.general.pk}/complete/")
    assert response.status_code == 409
    assert "jurisdiction, is not set" in response.content.decode()
    assert client.get(world.rpw.url).status_code == 404
    assert not Enrolment.objects.filter(user=world.unset, completed_at__isnull=False).exists()
    assert not Certificate.objects.filter(user=world.unset).exists()


def test_moving_force_re_evaluates_progress_and_keeps_history(world: World, org) -> None:  # noqa: ANN001
    client = client_for(world.scot)
    client.post(f"/learning/lessons/{world.rpw.pk}/complete/")
    pass_scenario(world.scot, world.scenario)
    client.post(f"/learning/lessons/{world.general.pk}/complete/")
    assert "2 of 2 lessons done" in client.get("/learning/").content.decode()

    # Moved to an England and Wales force: the E&W lesson is now required, nothing is lost.
    profile = world.scot.officer
    profile.unit = make_unit("Camden Response", org.other_force)
    profile.force = org.other_force
    profile.save()
    moved = User.objects.get(pk=world.scot.pk)
    client = client_for(moved)
    assert "1 of 2 lessons done" in client.get("/learning/").content.decode()
    assert client.get(world.rpw.url).status_code == 404
    assert LessonCompletion.objects.filter(enrolment__user=moved).count() == 2
    client.post(f"/learning/lessons/{world.divert.pk}/complete/")
    attempt = assessment_start(user=moved, course_id=world.course.pk)
    codes = {a.question.jurisdiction for a in attempt.answers.select_related("question")}
    assert codes <= {"all", ENGLAND_WALES}

    # A certificate issued before a move keeps its jurisdiction.
    other = make_officer(unit=org.dundee)
    finish_client = client_for(other)
    pass_scenario(other, world.scenario)
    certificate = finish(finish_client, other, world)
    set_jurisdiction(org.force, ENGLAND_WALES)  # the force's jurisdiction changes
    assert Certificate.objects.get(pk=certificate.pk).jurisdiction == SCOTLAND
    assert certificate_issue(enrolment=certificate.enrolment).jurisdiction == SCOTLAND
    assert Enrolment.objects.get(pk=certificate.enrolment_id).is_complete


def test_the_player_refuses_another_jurisdictions_scenario(world: World) -> None:
    """Not only left out of the outline: a hand-made start of another jurisdiction's
    scenario looks exactly like a missing one, and starts nothing."""
    url = f"/scenarios/{world.scenario.pk}/start/"
    for officer in (world.ew, world.unset):
        response = client_for(officer).post(url)
        assert response.status_code == 404
        assert not Attempt.objects.filter(user=officer).exists()
    assert client_for(world.scot).post(url).status_code == 302
    assert Attempt.objects.filter(user=world.scot).count() == 1
