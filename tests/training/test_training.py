"""Training leads: assignment rules, refreshers, reminders, matrix, lists, transcript, exports."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from courses.models import CoursePage, LessonPage
from officers.models import OfficerProfile, Role
from tests.factories import make_course, make_officer
from training.assignments import assignment_rule_create, refresher_assignments_sync
from training.matrix import completion_matrix
from training.models import Assignment, ExportLog, Reminder
from training.reminders import send_reminders

TODAY = timezone.localdate


@pytest.fixture
def course(home) -> CoursePage:  # noqa: ANN001
    return make_course(home, title="Naloxone refresher", modules=1, lessons=2, validity_months=12)


@pytest.fixture
def officers(org):  # noqa: ANN001, ANN201
    return {
        "dundee": [make_officer(unit=org.dundee) for _ in range(3)],
        "tayside": [make_officer(unit=org.tayside)],
        "leith": [make_officer(unit=org.leith) for _ in range(2)],
    }


def complete(user, course) -> None:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    for lesson in LessonPage.objects.live().descendant_of(course).order_by("path"):
        assert client.post(f"/learning/lessons/{lesson.pk}/complete/").status_code == 302


def test_assigning_to_a_unit_covers_everything_under_it(org, north_lead, officers, course):
    rule, count = assignment_rule_create(
        by=north_lead, course=course, unit=org.north, due_date=TODAY() + timedelta(days=30)
    )
    assigned = set(Assignment.objects.filter(rule=rule).values_list("user_id", flat=True))
    north = {u.pk for u in officers["dundee"] + officers["tayside"]} | {north_lead.pk}
    assert assigned == north and count == len(north)
    assert not assigned & {u.pk for u in officers["leith"]}
    a = Assignment.objects.get(rule=rule, user=officers["dundee"][0])
    assert a.due_on == TODAY() + timedelta(days=30) and a.unit_path == org.dundee.path and a.current


def test_assigning_the_same_course_twice_keeps_one_assignment_and_one_email(
    org, north_lead, officers, course
):
    due = TODAY() + timedelta(days=30)
    assignment_rule_create(by=north_lead, course=course, unit=org.dundee, due_date=due)
    send_reminders()
    sent = len(mail.outbox)
    rows = Assignment.objects.count()
    _, count = assignment_rule_create(by=north_lead, course=course, unit=org.dundee, due_date=due)
    assert count == 0 and Assignment.objects.count() == rows
    send_reminders()
    assert len(mail.outbox) == sent
    assert Reminder.objects.filter(kind="assigned").count() == len(officers["dundee"])


def test_two_rules_for_one_officer_the_earliest_due_date_stands(org, north_lead, officers, course):
    officer = officers["dundee"][0]
    late, soon = TODAY() + timedelta(days=60), TODAY() + timedelta(days=10)
    assignment_rule_create(by=north_lead, course=course, unit=org.dundee, due_date=late)
    assignment_rule_create(by=north_lead, course=course, officers=[officer], due_date=soon)
    assert Assignment.objects.get(user=officer, current=True).due_on == soon
    assignment_rule_create(by=north_lead, course=course, unit=org.tayside, due_date=late)
    assert Assignment.objects.get(user=officer, current=True).due_on == soon
    assert Assignment.objects.filter(user=officer).count() == 1


def test_an_officer_who_joins_after_a_fixed_date_is_not_overdue_on_day_one(org, north_lead, course):
    from training.rules import JOINER_GRACE_DAYS

    with time_machine.travel(timezone.now() - timedelta(days=20), tick=False):
        assignment_rule_create(
            by=north_lead, course=course, unit=org.dundee, due_date=TODAY() + timedelta(days=5)
        )
    joiner = make_officer(unit=org.dundee)
    assignment = Assignment.objects.get(user=joiner, current=True)
    assert assignment.due_on == TODAY() + timedelta(days=JOINER_GRACE_DAYS)


def test_officers_who_join_later_are_assigned(org, north_lead, course):
    rule, _ = assignment_rule_create(by=north_lead, course=course, unit=org.north, due_days=14)
    newcomer = make_officer(unit=org.dundee)
    assignment = Assignment.objects.get(rule=rule, user=newcomer)
    assert assignment.due_on == TODAY() + timedelta(days=14)
    # Moving from outside into the unit assigns too, and keeps unit paths in step.
    mover = make_officer(unit=org.leith)
    assert not Assignment.objects.filter(user=mover).exists()
    profile = OfficerProfile.objects.get(user=mover)
    profile.unit = org.tayside
    profile.save()
    assert Assignment.objects.get(rule=rule, user=mover).unit_path == org.tayside.path


def test_named_officers_and_scope(org, north_lead, officers, course):
    dundee = officers["dundee"][0]
    _, count = assignment_rule_create(
        by=north_lead, course=course, officers=[dundee], due_date=TODAY()
    )
    assert count == 1
    with pytest.raises(ValidationError, match="not in the units you lead"):
        assignment_rule_create(
            by=north_lead, course=course, officers=officers["leith"], due_date=TODAY()
        )
    with pytest.raises(ValidationError, match="units you lead"):
        assignment_rule_create(by=north_lead, course=course, unit=org.east, due_date=TODAY())
    with pytest.raises(ValidationError, match="in the past"):
        assignment_rule_create(
            by=north_lead, course=course, unit=org.north, due_date=TODAY() - timedelta(days=1)
        )
    with pytest.raises(ValidationError, match="either a due date"):
        assignment_rule_create(by=north_lead, course=course, unit=org.north)
    assert Assignment.objects.count() == 1


def test_progress_and_completion_reach_the_assignment(org, north_lead, officers, course):
    officer = officers["dundee"][0]
    assignment_rule_create(by=north_lead, course=course, unit=org.dundee, due_days=30)
    complete(officer, course)
    assignment = Assignment.objects.get(user=officer, current=True)
    assert assignment.started_at is not None and assignment.completed_at is not None


def test_already_certified_officers_count_as_complete(org, north_lead, officers, course):
    officer = officers["dundee"][0]
    complete(officer, course)
    assignment_rule_create(by=north_lead, course=course, unit=org.dundee, due_days=30)
    assert Assignment.objects.get(user=officer).completed_at is not None


def test_refresher_assigned_when_the_certificate_enters_its_window(org, officers, course):
    from certificates.models import Certificate

    officer = officers["dundee"][0]
    complete(officer, course)
    certificate = Certificate.objects.get(user=officer)
    assert refresher_assignments_sync(TODAY()) == 0  # not due yet
    later = certificate.refresher_from
    assert refresher_assignments_sync(later) == 1
    assert refresher_assignments_sync(later) == 0  # once
    refresher = Assignment.objects.get(user=officer, kind=Assignment.Kind.REFRESHER)
    assert refresher.due_on == certificate.expires_on and refresher.current
    assert refresher.completed_at is None
    # Doing the course again completes the refresher.
    client = Client()
    client.force_login(officer)
    client.post(f"/learning/courses/{course.pk}/start/")
    complete(officer, course)
    refresher.refresh_from_db()
    assert refresher.completed_at is not None


# ----------------------------------------------------------------------------- reminders


def test_reminders_are_sent_once(org, north_lead, officers, course):
    dundee = officers["dundee"]
    assignment_rule_create(by=north_lead, course=course, unit=org.dundee, due_days=5)
    run = send_reminders()
    assert run.sent == {"assigned": 3, "due_soon": 3}
    assert len(mail.outbox) == 6
    body = mail.outbox[0].body
    assert "Naloxone refresher" in body and f"/learning/courses/{course.pk}/continue/" in body
    assert "<" not in body  # plain text
    assert send_reminders().sent == {}
    # A week later they are overdue: one more each, once.
    later = TODAY() + timedelta(days=8)
    assert send_reminders(today=later).sent == {"overdue": 3}
    assert send_reminders(today=later).sent == {}
    assert Reminder.objects.filter(user=dundee[0]).count() == 3


def test_expiring_certificate_reminder(org, officers, course):
    from certificates.models import Certificate

    officer = officers["dundee"][0]
    complete(officer, course)
    certificate = Certificate.objects.get(user=officer)
    mail.outbox.clear()
    run = send_reminders(today=certificate.refresher_from)
    assert run.sent.get("expiring") == 1 and run.refreshers_assigned == 1
    assert any(certificate.number in m.body for m in mail.outbox)
    assert send_reminders(today=certificate.refresher_from).sent.get("expiring") is None


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_reminder_once(home, org):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs this there)")
    course = make_course(home, title="Concurrent reminders", modules=1, lessons=1)
    lead = make_officer(unit=org.north, role=Role.TRAINING_LEAD, leads=[org.north])
    for _ in range(8):
        make_officer(unit=org.dundee)
    assignment_rule_create(by=lead, course=course, unit=org.dundee, due_days=30)
    barrier = threading.Barrier(2)
    results = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(send_reminders().sent)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.get("assigned", 0) for r in results) == 8
    assert Reminder.objects.filter(kind="assigned").count() == 8
    assert len(mail.outbox) == 8


# ------------------------------------------------------------------- the lead's views


@pytest.fixture
def history(org, north_lead, east_lead, officers, course):  # noqa: ANN001, ANN201
    """Dundee: one complete, one in progress, one overdue; Leith: one overdue."""
    assignment_rule_create(by=north_lead, course=course, unit=org.dundee, due_days=10)
    assignment_rule_create(by=east_lead, course=course, unit=org.leith, due_days=10)
    done, started, late = officers["dundee"]
    complete(done, course)
    c = Client()
    c.force_login(started)
    first = LessonPage.objects.live().descendant_of(course).order_by("path").first()
    c.post(f"/learning/lessons/{first.pk}/complete/")
    Assignment.objects.filter(user__in=[late, officers["leith"][0]]).update(
        due_on=TODAY() - timedelta(days=3)
    )
    return officers


def lead_client(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


def test_matrix_counts_and_drill_down(org, north_lead, history, course, no_staff_mfa):
    client = lead_client(north_lead)
    body = client.get("/admin/training/matrix/").content.decode()
    assert "North" in body and "East" not in body and "Leith" not in body
    body = client.get(f"/admin/training/matrix/?unit={org.tayside.pk}").content.decode()
    assert "Dundee Response" in body
    assert "1 complete, 1 in progress, 1 not started, 1 overdue" not in body  # 3 officers
    assert "33% · Poor" in body
    assert "1 complete, 1 in progress, 0 not started, 1 overdue" in body
    body = client.get(f"/admin/training/matrix/?unit={org.dundee.pk}").content.decode()
    for officer in history["dundee"]:
        assert f"/admin/training/officers/{officer.pk}/transcript/" in body
    assert "100% · Good" in body


def test_scope_follows_a_team_moved_to_another_division(
    org, north_lead, east_lead, history, course, no_staff_mfa
):
    """Dundee Response moves from North to East: the East lead now sees and exports its
    officers' assignments, the North lead no longer does."""
    from officers.models import Unit

    late = history["dundee"][2]
    Unit.objects.get(pk=org.dundee.pk).move(Unit.objects.get(pk=org.east.pk), "last-child")
    north, east = lead_client(north_lead), lead_client(east_lead)
    assert late.email not in north.get("/admin/training/overdue/").content.decode()
    exported = b"".join(north.get("/admin/training/overdue/?export=csv").streaming_content)
    assert late.email.encode() not in exported
    assert late.email in east.get("/admin/training/overdue/").content.decode()
    exported = b"".join(east.get("/admin/training/overdue/?export=csv").streaming_content)
    assert late.email.encode() in exported
    assert north.get(f"/admin/training/officers/{late.pk}/transcript/").status_code == 404
    north_cells = completion_matrix(north_lead).totals.cells
    east_cells = completion_matrix(east_lead).totals.cells
    assert north_cells.get(course.pk) is None or north_cells[course.pk].total == 1  # Tayside's
    assert east_cells[course.pk].total == 2 + 3  # Leith's two and Dundee's three


def test_lead_of_another_unit_gets_nothing(org, east_lead, history, no_staff_mfa):
    client = lead_client(east_lead)
    assert client.get(f"/admin/training/matrix/?unit={org.dundee.pk}").status_code == 404
    body = client.get("/admin/training/overdue/").content.decode()
    assert history["leith"][0].email in body
    assert history["dundee"][2].email not in body
    officer = history["dundee"][0]
    assert client.get(f"/admin/training/officers/{officer.pk}/transcript/").status_code == 404
    csv = client.get("/admin/training/overdue/?export=csv")
    assert history["dundee"][2].email.encode() not in b"".join(csv.streaming_content)


def test_learners_cannot_open_the_training_views(learner, history, org):
    client = lead_client(learner)
    for url in ("/admin/training/matrix/", "/admin/training/overdue/", "/admin/training/assign/"):
        assert client.get(url).status_code in (302, 403)


def test_matrix_exports_csv_and_xlsx_and_logs_them(org, north_lead, history, course, no_staff_mfa):
    client = lead_client(north_lead)
    response = client.get(f"/admin/training/matrix/?unit={org.tayside.pk}&export=csv")
    text = b"".join(response.streaming_content).decode()
    assert "Dundee Response,Naloxone refresher,3,1,1,0,1,0,33" in text
    response = client.get(f"/admin/training/matrix/?unit={org.tayside.pk}&export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    # The first nine columns; officer rows add their lessons done against their own outline.
    assert ["Dundee Response", "Naloxone refresher", 3, 1, 1, 0, 1, 0, 33] in [r[:9] for r in rows]
    logs = list(ExportLog.objects.values_list("what", "format", "user_id"))
    assert logs == [("matrix", "xlsx", north_lead.pk), ("matrix", "csv", north_lead.pk)]


def test_a_units_name_reaches_the_download_header_only_as_a_slug(
    org, north_lead, history, course, no_staff_mfa
):
    org.tayside.name = 'Tay"side\r\nSet-Cookie: x=1; é'
    org.tayside.save()
    client = lead_client(north_lead)
    for export in ("csv", "xlsx"):
        response = client.get(f"/admin/training/matrix/?unit={org.tayside.pk}&export={export}")
        assert response.status_code == 200
        disposition = response["Content-Disposition"]
        assert f'filename="pathways-matrix-tayside-set-cookie-x1-e.{export}"' in disposition
        assert "\n" not in disposition and "Set-Cookie" not in disposition


def test_overdue_list_filters_and_exports(org, north_lead, history, course, no_staff_mfa):
    client = lead_client(north_lead)
    late = history["dundee"][2]
    body = client.get("/admin/training/overdue/").content.decode()
    assert late.email in body
    assert history["dundee"][0].email not in body  # complete
    url = "/admin/training/overdue/"
    assert late.email in client.get(f"{url}?unit={org.tayside.pk}").content.decode()
    quiet = org.north.add_child(name="Quiet Team", kind="team")
    assert late.email not in client.get(f"{url}?unit={quiet.pk}").content.decode()
    # A unit outside the lead's scope is not a valid choice: the list stays within scope.
    body = client.get(f"/admin/training/overdue/?unit={org.east.pk}").content.decode()
    assert history["leith"][0].email not in body
    body = client.get(f"{url}?course={course.pk}&due_on_from=2999-01-01").content.decode()
    assert late.email not in body
    response = client.get("/admin/training/overdue/?export=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][:3] == ["Email", "Name", "Course"]
    assert [r[0] for r in rows[1:]] == [late.email]
    assert ExportLog.objects.filter(what="overdue", format="xlsx").exists()


def test_certificate_lists(org, north_lead, history, course, administrator, no_staff_mfa):
    from certificates.models import Certificate
    from certificates.services import certificate_revoke

    certificate = Certificate.objects.get(user=history["dundee"][0])
    client = lead_client(north_lead)
    assert certificate.number not in client.get("/admin/training/expiring/").content.decode()
    body = client.get("/admin/training/expiring/?days=400").content.decode()
    assert certificate.number in body
    Certificate.objects.filter(pk=certificate.pk).update(expires_on=TODAY() - timedelta(days=1))
    assert certificate.number in client.get("/admin/training/expired/").content.decode()
    certificate_revoke(certificate=certificate, by=administrator, reason="test")
    assert certificate.number in client.get("/admin/training/revoked/").content.decode()
    other = lead_client(make_officer(unit=org.east, role=Role.TRAINING_LEAD, leads=[org.east]))
    assert certificate.number not in other.get("/admin/training/revoked/").content.decode()


def test_the_matrix_and_the_expiring_list_mean_the_same_thing(
    org, north_lead, history, course, no_staff_mfa
):
    """Expiring is the course's refresher window everywhere; "within N days" is only the
    list's named filter."""
    from certificates.models import Certificate
    from training.matrix import completion_matrix

    certificate = Certificate.objects.get(user=history["dundee"][0])
    client = lead_client(north_lead)

    def in_matrix() -> int:
        return completion_matrix(north_lead, unit=org.dundee).totals.cell(course.pk).expiring

    def in_list(query: str = "") -> bool:
        page = client.get(f"/admin/training/expiring/{query}").content.decode()
        return certificate.number in page

    # 90 days before expiry, outside a 60-day refresher window: in neither.
    Certificate.objects.filter(pk=certificate.pk).update(
        expires_on=TODAY() + timedelta(days=90),
        refresher_window_days=60,
        refresher_from=TODAY() + timedelta(days=30),
    )
    assert (in_matrix(), in_list()) == (0, False)
    assert (
        in_list("?days=120")
        and "Expiring within 120 days"
        in client.get("/admin/training/expiring/?days=120").content.decode()
    )
    # Inside the window: in both.
    certificate.refresh_from_db()
    certificate.expires_on = TODAY() + timedelta(days=30)
    certificate.save()
    assert (in_matrix(), in_list()) == (1, True)
    assert "refresher window" in client.get("/admin/training/expiring/").content.decode()


def test_transcript_shows_everything(org, north_lead, history, course, no_staff_mfa):
    officer = history["dundee"][0]
    body = lead_client(north_lead).get(f"/admin/training/officers/{officer.pk}/transcript/")
    text = body.content.decode()
    assert "Naloxone refresher" in text and "PW-" in text


def test_assign_form(org, north_lead, officers, course, no_staff_mfa):
    client = lead_client(north_lead)
    data = {
        "course": course.pk,
        "target": "unit",
        "unit": org.dundee.pk,
        "due": "days",
        "due_days": 21,
    }
    assert client.post("/admin/training/assign/", data).status_code == 302
    assert Assignment.objects.filter(user__in=officers["dundee"]).count() == 3
    bad = {
        "course": course.pk,
        "target": "officers",
        "officers": "nobody@x.police.uk\n" + officers["leith"][0].email,
        "due": "date",
        "due_date": "",
    }
    body = client.post("/admin/training/assign/", bad).content.decode()
    assert "Not found in the units you lead" in body and "Give the due date" in body
    named = {
        "course": course.pk,
        "target": "officers",
        "officers": officers["tayside"][0].officer.service_number,
        "due": "date",
        "due_date": str(TODAY() + timedelta(days=5)),
    }
    assert client.post("/admin/training/assign/", named).status_code == 302
    assert Assignment.objects.filter(user=officers["tayside"][0]).exists()


def test_admin_home_panel(org, north_lead, history, no_staff_mfa):
    body = lead_client(north_lead).get("/admin/").content.decode()
    assert "Training in my units" in body and "Naloxone refresher" in body


def test_matrix_queries_do_not_grow_with_officers(
    org, north_lead, course, no_staff_mfa, django_assert_max_num_queries
):
    assignment_rule_create(by=north_lead, course=course, unit=org.north, due_days=10)
    client = lead_client(north_lead)
    with django_assert_max_num_queries(30):
        client.get("/admin/training/matrix/")
    for _ in range(25):
        make_officer(unit=org.dundee)
    with django_assert_max_num_queries(30):
        assert client.get("/admin/training/matrix/").status_code == 200


def test_my_learning_lists_assignments_by_due_date_and_reminders(org, north_lead, officers, home):
    first = make_course(home, title="Later course", modules=1, lessons=1)
    second = make_course(home, title="Sooner course", modules=1, lessons=1)
    officer = officers["dundee"][0]
    assignment_rule_create(by=north_lead, course=first, officers=[officer], due_days=30)
    assignment_rule_create(by=north_lead, course=second, officers=[officer], due_days=3)
    Assignment.objects.filter(course=second).update(due_on=TODAY() - timedelta(days=1))
    send_reminders()
    body = lead_client(officer).get("/learning/").content.decode()
    section = body.split('id="assigned"', 1)[1].split("</section>", 1)[0]
    assert section.index("Sooner course") < section.index("Later course")
    assert "Overdue" in section.split("Later course")[0]
    assert "Reminders sent to you" in body and "New course assigned: Later course" in body


def test_a_revoked_certificate_no_longer_counts_as_complete(org, north_lead, officers, course):
    from certificates.models import Certificate
    from certificates.services import certificate_revoke

    officer = officers["dundee"][0]
    assignment_rule_create(by=north_lead, course=course, unit=org.dundee, due_days=30)
    complete(officer, course)
    assert Assignment.objects.get(user=officer, current=True).completed_at is not None
    certificate_revoke(
        certificate=Certificate.objects.get(user=officer), by=north_lead, reason="Redo it"
    )
    assert Assignment.objects.get(user=officer, current=True).completed_at is None
