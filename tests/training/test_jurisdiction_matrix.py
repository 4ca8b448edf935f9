"""The leads' views count each officer against the outline for their own jurisdiction."""

from __future__ import annotations

import pytest
from django.test import Client

from courses.models import CoursePage, LessonPage, ModulePage
from courses.rules import course_withheld
from officers.models import Role
from officers.selectors import officer_jurisdiction
from tests.factories import add_lesson, make_course, make_officer, make_unit, set_jurisdiction
from training.assignments import assignment_rule_create
from training.models import Assignment, Reminder
from training.reminders import send_reminders

SCOTLAND, ENGLAND_WALES = "scotland", "england_wales"


@pytest.fixture
def setting(home, org):  # noqa: ANN001, ANN201
    """A Scottish and an E&W team side by side under one administrator's view, a course with
    a lesson for each jurisdiction, and a course limited to Scotland."""
    set_jurisdiction(org.force, SCOTLAND)
    set_jurisdiction(org.other_force, ENGLAND_WALES)
    westminster = make_unit("Westminster Response", org.other_force)
    course = make_course(home, title="Drug possession", modules=1, lessons=1)
    module = ModulePage.objects.child_of(course).get()
    add_lesson(module, "Recorded Police Warnings", slug="rpw", audience=[SCOTLAND])
    add_lesson(module, "Diversion schemes", slug="divert", audience=[ENGLAND_WALES])
    add_lesson(module, "Checkpoint in detail", slug="checkpoint", audience=[ENGLAND_WALES])
    limited = make_course(home, title="Scottish warnings", modules=1, lessons=1)
    limited.jurisdiction = SCOTLAND
    limited.save_revision().publish()
    admin = make_officer(unit=org.force, role=Role.ADMINISTRATOR, email="admin@police.scot")
    scot = make_officer(unit=org.dundee, last_name="Aitken")
    ew = make_officer(unit=westminster, last_name="Bennett")
    for officer in (scot, ew):
        for each in (course, limited):
            assignment_rule_create(by=admin, course=each, officers=[officer], due_days=30)
    return course, limited, admin, scot, ew, westminster


def lessons_of(course: CoursePage) -> list[LessonPage]:
    return list(LessonPage.objects.live().descendant_of(course).order_by("path"))


def test_officer_rows_and_csv_count_each_against_their_own_outline(
    setting, org, no_staff_mfa, django_assert_max_num_queries
) -> None:  # noqa: ANN001
    course, limited, admin, scot, ew, westminster = setting
    general = lessons_of(course)[0]
    for officer in (scot, ew):
        client = Client()
        client.force_login(officer)
        assert client.post(f"/learning/lessons/{general.pk}/complete/").status_code == 302
    lead = Client()
    lead.force_login(admin)

    scottish = b"".join(
        lead.get(f"/admin/training/matrix/?unit={org.dundee.pk}&export=csv").streaming_content
    ).decode()
    # Scotland: 1 of 2 (the shared lesson and Recorded Police Warnings).
    assert f"{scot.get_full_name()},Drug possession,1,0,1,0,0,0,0,1,2," in scottish
    assert f"{scot.get_full_name()},Scottish warnings,1,0,0,1,0,0,0,0,1," in scottish
    english = b"".join(
        lead.get(f"/admin/training/matrix/?unit={westminster.pk}&export=csv").streaming_content
    ).decode()
    # England and Wales: 1 of 3 (the shared lesson and the two E&W lessons); the Scottish
    # course is not counted for them at all.
    assert f"{ew.get_full_name()},Drug possession,1,0,1,0,0,0,0,1,3," in english
    assert f"{ew.get_full_name()},Scottish warnings,0,0,0,0,0,0,0,,," in english
    page = lead.get(f"/admin/training/matrix/?unit={westminster.pk}").content.decode()
    assert "1 of 3 lessons done" in page

    # The top of the matrix: the Scottish-only course counts one officer, not two.
    top = b"".join(lead.get("/admin/training/matrix/?export=csv").streaming_content).decode()
    assert "All,Scottish warnings,1," in top and "All,Drug possession,2," in top

    # Officer rows do not grow in queries with officers.
    url = f"/admin/training/matrix/?unit={westminster.pk}"
    with django_assert_max_num_queries(40) as before:
        lead.get(url)
    for _ in range(15):
        extra = make_officer(unit=westminster)
        assignment_rule_create(by=admin, course=course, officers=[extra], due_days=30)
    with django_assert_max_num_queries(len(before.captured_queries)):
        assert lead.get(url).status_code == 200


def test_the_applying_filter_agrees_with_the_rule(setting) -> None:  # noqa: ANN001
    course, limited, admin, scot, ew, westminster = setting
    unset = make_officer(unit=make_unit("Force without a jurisdiction"))
    assignment_rule_create(by=admin, course=limited, officers=[unset], due_days=30)
    applying = set(Assignment.objects.applying().values_list("pk", flat=True))
    for assignment in Assignment.objects.select_related("course", "user"):
        withheld = course_withheld(
            assignment.course.jurisdiction, officer_jurisdiction(assignment.user)
        )
        assert (assignment.pk in applying) is not withheld


def test_reminders_and_transcripts_follow_the_officers_jurisdiction(
    setting, org, no_staff_mfa
) -> None:  # noqa: ANN001
    course, limited, admin, scot, ew, westminster = setting
    send_reminders()
    assigned = Reminder.objects.filter(kind=Reminder.Kind.ASSIGNED)
    assert set(assigned.filter(user=ew).values_list("assignment__course_id", flat=True)) == {
        course.pk
    }
    assert assigned.filter(user=scot).count() == 2
    client = Client()
    client.force_login(ew)
    client.post(f"/learning/lessons/{lessons_of(course)[0].pk}/complete/")
    lead = Client()
    lead.force_login(admin)
    transcript = lead.get(f"/admin/training/officers/{ew.pk}/transcript/").content.decode()
    assert "England and Wales" in transcript and "1 of 3 lessons done" in transcript

    # Moved to a Scottish unit: counted against the Scottish outline, history kept.
    profile = ew.officer
    profile.unit, profile.force = org.dundee, org.force
    profile.save()
    transcript = lead.get(f"/admin/training/officers/{ew.pk}/transcript/").content.decode()
    assert "Scotland" in transcript and "1 of 2 lessons done" in transcript
    assert Assignment.objects.applying().filter(user=ew, course=limited).exists()
