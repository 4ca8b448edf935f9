"""A long XLSX export is written by a background task, not in the request: the request records
an export file and sends the lead to a page that waits for it; the task rebuilds the same list
(same person, units as they are then, filters, sort); only the person who asked sees or
downloads it; files expire and are deleted; a failure is explained, never a 500."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from courses.models import CoursePage
from officers.models import User
from tests.factories import make_course, make_officer
from training.admin_views import EXPORT_VIEWS, export_file_write
from training.assignments import assignment_rule_create
from training.export_files import MAX_OPEN, export_file_build, export_files_purge
from training.models import Assignment, ExportFile, ExportLog

pytestmark = pytest.mark.usefixtures("no_staff_mfa")

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
FILE_PAGE = re.compile(r"^/admin/training/my-exports/([0-9a-f-]{36})/$")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:  # noqa: ANN001
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def background(settings) -> None:  # noqa: ANN001
    """Every XLSX goes through the task (the threshold's other side is tested below)."""
    settings.PATHWAYS_EXPORT_INLINE_ROWS = 0


@pytest.fixture
def no_worker(settings) -> None:  # noqa: ANN001
    """Tasks are recorded, not run: the export waits, as it does until a worker takes it."""
    settings.TASKS = DUMMY_TASKS


@dataclass
class Lists:
    course: CoursePage
    north: list[User]  # overdue, in Dundee (North): the north lead's
    east: list[User]  # overdue, in Leith (East): not the north lead's


@pytest.fixture
def overdue(org, north_lead, east_lead, home) -> Lists:  # noqa: ANN001
    course = make_course(home, title="Naloxone", modules=1, lessons=1)
    north = [
        make_officer(unit=org.dundee, first_name=first, last_name=last, email=f"{last}@north.scot")
        for first, last in (("Pat", "Adams"), ("Pat", "Brown"), ("=Chris", "Clark"))
    ]
    east = [
        make_officer(unit=org.leith, first_name="Sam", last_name=name, email=f"{name}@east.scot")
        for name in ("Dunn", "Evans")
    ]
    today = timezone.localdate()
    assignment_rule_create(by=north_lead, course=course, unit=org.dundee, due_days=5)
    assignment_rule_create(by=east_lead, course=course, unit=org.leith, due_days=5)
    for days, user in enumerate([*north, *east], start=1):
        Assignment.objects.filter(user=user).update(due_on=today - timedelta(days=days))
    return Lists(course, north, east)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def export_of(response) -> ExportFile:  # noqa: ANN001
    assert response.status_code == 302, response.status_code
    match = FILE_PAGE.match(response["Location"])
    assert match, response["Location"]
    return ExportFile.objects.get(token=match.group(1))


def page_url(export: ExportFile) -> str:
    return f"/admin/training/my-exports/{export.token}/"


def download_url(export: ExportFile) -> str:
    return f"/admin/training/my-exports/{export.token}/download/"


def workbook_rows(response) -> list[list[object]]:  # noqa: ANN001
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


# ------------------------------------------------------------------------- end to end


@pytest.mark.usefixtures("background")
def test_a_long_list_is_written_in_the_background_and_downloaded(north_lead, overdue) -> None:
    client = client_for(north_lead)
    response = client.get("/admin/training/overdue/", {"export": "xlsx", "ordering": "-due_on"})
    export = export_of(response)
    # The immediate backend (tests, DEBUG) has run the task already.
    assert export.status == ExportFile.Status.READY
    assert export.user == north_lead and export.what == "overdue" and export.format == "xlsx"
    assert export.params == {"ordering": ["-due_on"]}
    assert export.rows == 3 and export.finished_at is not None
    assert export.expires_at > timezone.now() + timedelta(hours=23)
    # A random name, in storage, that says nothing about what is in it.
    assert re.fullmatch(r"exports/\d{4}/\d{2}/[\w-]{32}\.xlsx", export.file.name)
    assert default_storage.exists(export.file.name)
    assert ExportLog.objects.filter(user=north_lead, what="overdue", format="xlsx").count() == 1

    page = client.get(page_url(export))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Your export is ready." in body and download_url(export) in body
    assert 'http-equiv="refresh"' not in body

    download = client.get(download_url(export))
    assert download["Content-Disposition"] == 'attachment; filename="pathways-overdue.xlsx"'
    assert {"private", "no-store"} <= set(download["Cache-Control"].split(", "))
    rows = workbook_rows(download)
    assert rows[0] == ["Email", "Name", "Course", "Due on", "Started"]
    # Scoped to the lead's units (East's officers absent), sorted as asked: latest due first.
    assert [row[0] for row in rows[1:]] == [u.email for u in overdue.north]
    assert "'=Chris Clark" in [row[1] for row in rows]  # every cell through cell_safe


@pytest.mark.usefixtures("background")
def test_the_matrix_of_a_team_is_written_in_the_background(org, north_lead, overdue) -> None:
    client = client_for(north_lead)
    response = client.get(
        "/admin/training/matrix/", {"unit": org.dundee.pk, "export": "xlsx", "ordering": "-name"}
    )
    export = export_of(response)
    assert export.what == "matrix" and export.params == {
        "unit": [str(org.dundee.pk)],
        "ordering": ["-name"],
    }
    assert export.filename == "pathways-matrix-dundee-response.xlsx"
    rows = workbook_rows(client.get(download_url(export)))
    assert rows[0][:3] == ["Unit or officer", "Course", "Assigned"]
    labels = [row[0] for row in rows[1:]]
    assert labels == ["'=Chris Clark", "Pat Brown", "Pat Adams", "All"]
    assert rows[-1][2:7] == [3, 0, 0, 0, 3]  # the whole team: 3 assigned, 3 overdue
    assert export.rows == 4


@pytest.mark.usefixtures("background", "no_worker")
def test_the_page_waits_politely_until_the_file_is_ready(north_lead, overdue) -> None:
    client = client_for(north_lead)
    url = "/admin/training/overdue/?export=xlsx&course=" + str(overdue.course.pk)
    export = export_of(client.get(url))
    assert export.status == ExportFile.Status.QUEUED
    # Asking again while it waits is the same export, not a second one.
    assert export_of(client.get(url)) == export
    assert ExportFile.objects.count() == 1

    body = client.get(page_url(export)).content.decode()
    assert '<meta http-equiv="refresh" content="3">' in body
    assert "Your export is being prepared." in body
    assert download_url(export) not in body
    # The download address of a file not yet written leads back to the page.
    early = client.get(download_url(export))
    assert early.status_code == 302 and early["Location"] == page_url(export)

    export_file_build(export.pk, write=export_file_write)  # the worker's turn
    body = client.get(page_url(export)).content.decode()
    assert 'http-equiv="refresh"' not in body and download_url(export) in body
    # Run twice (a retried task), it is written once.
    name = ExportFile.objects.get(pk=export.pk).file.name
    export_file_build(export.pk, write=export_file_write)
    assert ExportFile.objects.get(pk=export.pk).file.name == name


@pytest.mark.usefixtures("background", "no_worker")
def test_the_task_rebuilds_the_list_with_the_units_as_they_are_then(
    org, north_lead, overdue
) -> None:
    """The scope is the lead's units when the file is written, not when it was asked for."""
    client = client_for(north_lead)
    export = export_of(client.get("/admin/training/overdue/?export=xlsx"))
    moved = overdue.east[0]
    moved.officer.unit = org.dundee
    moved.officer.save()
    export_file_build(export.pk, write=export_file_write)
    emails = [row[0] for row in workbook_rows(client.get(download_url(export)))[1:]]
    assert moved.email in emails and overdue.east[1].email not in emails


# ------------------------------------------------------------------------------ access


@pytest.mark.usefixtures("background")
def test_only_the_person_who_asked_sees_or_downloads_the_file(
    north_lead, east_lead, administrator, learner, overdue
) -> None:
    export = export_of(client_for(north_lead).get("/admin/training/overdue/?export=xlsx"))
    for other in (east_lead, administrator):
        client = client_for(other)
        for url in (page_url(export), download_url(export)):
            assert client.get(url).status_code == 404, (other, url)
        assert str(export.token) not in client.get("/admin/training/my-exports/").content.decode()
    for url in (page_url(export), download_url(export)):
        assert client_for(learner).get(url).status_code in (302, 403)  # not in the admin
        assert Client().get(url)["Location"].startswith(("/admin/login/", "/accounts/login/"))
    guessed = f"/admin/training/my-exports/{uuid.uuid4()}/"
    assert client_for(north_lead).get(guessed).status_code == 404
    assert client_for(north_lead).get(guessed + "download/").status_code == 404
    mine = client_for(north_lead).get("/admin/training/my-exports/").content.decode()
    assert page_url(export) in mine


@pytest.mark.usefixtures("background")
def test_files_expire_and_are_deleted(
    north_lead, overdue, django_capture_on_commit_callbacks
) -> None:
    client = client_for(north_lead)
    export = export_of(client.get("/admin/training/overdue/?export=xlsx"))
    kept = export_of(client.get("/admin/training/overdue/?export=xlsx&ordering=due_on"))
    name = export.file.name
    ExportFile.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    # Past its time it is gone for its owner too, even before the purge has run.
    assert client.get(page_url(export)).status_code == 404
    assert client.get(download_url(export)).status_code == 404
    assert page_url(export) not in client.get("/admin/training/my-exports/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_exports", stdout=io.StringIO())
    assert not ExportFile.objects.filter(pk=export.pk).exists()
    assert not default_storage.exists(name)
    assert default_storage.exists(ExportFile.objects.get(pk=kept.pk).file.name)
    assert export_files_purge() == 0


@pytest.mark.usefixtures("background")
def test_an_account_deleted_takes_its_files_with_it(
    north_lead, overdue, django_capture_on_commit_callbacks
) -> None:
    export = export_of(client_for(north_lead).get("/admin/training/overdue/?export=xlsx"))
    name = export.file.name
    with django_capture_on_commit_callbacks(execute=True):
        north_lead.delete()
    assert not ExportFile.objects.exists() and not default_storage.exists(name)


@pytest.mark.usefixtures("background")
def test_a_deletion_rolled_back_keeps_its_file(north_lead, overdue) -> None:
    export = export_of(client_for(north_lead).get("/admin/training/overdue/?export=xlsx"))
    name = export.file.name
    with pytest.raises(RuntimeError), transaction.atomic():
        ExportFile.objects.filter(pk=export.pk).delete()
        raise RuntimeError("the deletion fails after the record went")
    assert ExportFile.objects.filter(pk=export.pk).exists() and default_storage.exists(name)


# ------------------------------------------------------------------------------ failure


@pytest.mark.usefixtures("background")
def test_a_failed_build_is_explained_never_a_500(north_lead, overdue, monkeypatch) -> None:
    def broken(self, output):  # noqa: ANN001, ANN202
        raise RuntimeError("the database went away")

    monkeypatch.setattr(EXPORT_VIEWS["overdue"], "write_export_file", broken)
    client = client_for(north_lead)
    export = export_of(
        client.get(f"/admin/training/overdue/?course={overdue.course.pk}&export=xlsx")
    )
    export.refresh_from_db()
    assert export.status == ExportFile.Status.FAILED and not export.file
    page = client.get(page_url(export))
    body = page.content.decode()
    assert page.status_code == 200
    assert "The export could not be prepared. Please try again" in body
    assert "database went away" not in body  # the details are for the log
    assert f"/admin/training/overdue/?course={overdue.course.pk}" in body  # try again
    assert client.get(download_url(export)).status_code == 302


@pytest.mark.usefixtures("background", "no_worker")
def test_a_unit_no_longer_led_fails_with_a_reason(org, north_lead, overdue) -> None:
    client = client_for(north_lead)
    export = export_of(client.get(f"/admin/training/matrix/?unit={org.dundee.pk}&export=xlsx"))
    north_lead.officer.led_units.set([org.east])
    export_file_build(export.pk, write=export_file_write)
    export.refresh_from_db()
    assert export.status == ExportFile.Status.FAILED and not export.file
    body = client.get(page_url(export)).content.decode()
    assert "You can no longer see this list" in body


@pytest.mark.usefixtures("background", "no_worker")
def test_an_export_waiting_for_hours_says_so(north_lead, overdue) -> None:
    client = client_for(north_lead)
    export = export_of(client.get("/admin/training/overdue/?export=xlsx"))
    ExportFile.objects.filter(pk=export.pk).update(created_at=timezone.now() - timedelta(hours=2))
    body = client.get(page_url(export)).content.decode()
    assert 'http-equiv="refresh"' not in body
    assert "waited far longer than it should" in body


@pytest.mark.usefixtures("background", "no_worker")
def test_an_export_taken_late_by_the_worker_is_not_lost(north_lead, overdue) -> None:
    """Queued for two hours behind others, then taken a minute ago: it is being written."""
    client = client_for(north_lead)
    export = export_of(client.get("/admin/training/overdue/?export=xlsx"))
    now = timezone.now()
    ExportFile.objects.filter(pk=export.pk).update(
        created_at=now - timedelta(hours=2),
        started_at=now - timedelta(minutes=1),
        status=ExportFile.Status.RUNNING,
    )
    body = client.get(page_url(export)).content.decode()
    assert 'http-equiv="refresh"' in body
    assert "waited far longer than it should" not in body
    ExportFile.objects.filter(pk=export.pk).update(started_at=now - timedelta(hours=2))
    assert "waited far longer than it should" in client.get(page_url(export)).content.decode()


@pytest.mark.usefixtures("background", "no_worker")
def test_a_lead_cannot_fill_the_queue(north_lead, overdue) -> None:
    client = client_for(north_lead)
    orderings = ["due_on", "-due_on", "officer", "-officer", "course", "-course"]
    assert len(orderings) > MAX_OPEN
    for ordering in orderings[:MAX_OPEN]:
        export_of(client.get(f"/admin/training/overdue/?ordering={ordering}&export=xlsx"))
    response = client.get(
        f"/admin/training/overdue/?ordering={orderings[MAX_OPEN]}&export=xlsx", follow=True
    )
    assert response.redirect_chain[-1][0] == "/admin/training/my-exports/"
    assert "please wait for one to finish" in response.content.decode()
    assert ExportFile.objects.count() == MAX_OPEN


# -------------------------------------------------------------------- the threshold


def test_a_short_list_is_written_in_the_request(north_lead, overdue, settings) -> None:  # noqa: ANN001
    client = client_for(north_lead)
    settings.PATHWAYS_EXPORT_INLINE_ROWS = 3  # the list has 3 rows: written at once
    rows = workbook_rows(client.get("/admin/training/overdue/?export=xlsx"))
    assert len(rows) == 4 and not ExportFile.objects.exists()
    settings.PATHWAYS_EXPORT_INLINE_ROWS = 2  # one more than that: the task
    export = export_of(client.get("/admin/training/overdue/?export=xlsx"))
    assert export.rows == 3
    # CSV is never a job: it streams.
    response = client.get("/admin/training/overdue/?export=csv")
    assert response.status_code == 200 and response.streaming


def test_a_short_matrix_is_written_in_the_request(org, north_lead, overdue, settings) -> None:  # noqa: ANN001
    client = client_for(north_lead)
    url = f"/admin/training/matrix/?unit={org.dundee.pk}&export=xlsx"
    assert len(workbook_rows(client.get(url))) == 5
    settings.PATHWAYS_EXPORT_INLINE_ROWS = 3
    assert export_of(client.get(url)).rows == 4
    assert ExportLog.objects.filter(what="matrix", format="xlsx").count() == 2


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "url",
    [
        "/admin/training/overdue/?export=pdf",
        "/admin/training/overdue/results/?export=xls",
        "/admin/training/reminders/?export=%00",
        "/admin/training/matrix/?export=pdf",
        "/admin/training/matrix/?unit=1&export=XLSX",
    ],
)
def test_an_unknown_export_format_is_refused_plainly(north_lead, overdue, url) -> None:  # noqa: ANN001
    response = client_for(north_lead).get(url)
    assert response.status_code == 400
    assert "Exports are offered as CSV or XLSX" in response.content.decode()
    assert not ExportLog.objects.exists() and not ExportFile.objects.exists()


@pytest.mark.parametrize("value", ["", "x", "999999999999999999999999", "²", "-1"])
def test_a_unit_that_is_not_one_still_answers(north_lead, overdue, value) -> None:  # noqa: ANN001
    response = client_for(north_lead).get("/admin/training/matrix/", {"unit": value})
    assert response.status_code in (200, 302, 404)


def test_a_matrix_export_of_another_leads_unit_is_a_404(org, north_lead, overdue) -> None:  # noqa: ANN001
    client = client_for(north_lead)
    for export in ("csv", "xlsx"):
        url = f"/admin/training/matrix/?unit={org.leith.pk}&export={export}"
        assert client.get(url).status_code == 404
    assert not ExportLog.objects.exists() and not ExportFile.objects.exists()
