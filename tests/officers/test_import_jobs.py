"""Officer import as a job: upload, preview (creates, updates, moves, role changes, leavers),
confirm, apply in the background, all or nothing; CSV and XLSX; only the uploader sees it."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courses.models import Enrolment
from officers import import_jobs
from officers.imports import (
    ImportRejected,
    officer_file_read,
    officer_import_apply,
    officer_import_plan,
)
from officers.models import OfficerImport, OfficerProfile, Role, Unit, User
from officers.roles import primary_role
from tests.factories import make_course, make_officer

HEADER = "email,given_name,family_name,service_number,force,unit,rank,role"
IMPORT = "/admin/officers/import/"


def csv_bytes(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def state() -> list[tuple]:
    """Every account and officer record, as the import could change them."""
    return (
        sorted(
            User.objects.values_list(
                "email", "first_name", "last_name", "is_active", "is_superuser", "is_staff"
            )
        )
        + sorted(
            OfficerProfile.objects.values_list("user__email", "service_number", "unit_id", "rank")
        )
        + [Unit.objects.count()]
    )


def upload(client: Client, data: bytes, name: str = "officers.csv") -> OfficerImport:
    response = client.post(IMPORT, {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = OfficerImport.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert response["Location"] == f"{IMPORT}{job.pk}/"
    return job


def page(client: Client, job: OfficerImport) -> str:
    response = client.get(f"{IMPORT}{job.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def act(client: Client, job: OfficerImport, action: str, **extra: str) -> OfficerImport:
    response = client.post(f"{IMPORT}{job.pk}/", {"action": action, **extra})
    assert response.status_code == 302
    job.refresh_from_db()
    return job


@pytest.fixture
def staff_client(administrator, no_staff_mfa) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(administrator)
    return client


@pytest.fixture
def force_officers(org):  # noqa: ANN001, ANN201
    """Three officers already in Police Scotland, as an earlier HR file left them."""
    return {
        "stays": make_officer(
            unit=org.dundee,
            email="stays@police.scot",
            first_name="Sam",
            last_name="Stays",
            service_number="P1",
        ),
        "moves": make_officer(
            unit=org.dundee,
            email="moves@police.scot",
            first_name="Mo",
            last_name="Moves",
            service_number="P2",
        ),
        "leaves": make_officer(
            unit=org.leith,
            email="leaves@police.scot",
            first_name="Lee",
            last_name="Leaves",
            service_number="P3",
        ),
    }


def hr_file(stays_rank: str = "Constable") -> bytes:
    return csv_bytes(
        f"stays@police.scot,Sam,Stays,P1,Police Scotland,North/Tayside/Dundee Response,"
        f"{stays_rank},learner",
        "moves@police.scot,Mo,Moves,P2,Police Scotland,East/Leith Response,Constable,training_lead",
        "new@police.scot,Nia,New,P4,Police Scotland,North/Tayside/Perth,Constable,learner",
    )


# ------------------------------------------------------------------------------ preview


def test_the_preview_shows_every_kind_of_change_and_changes_nothing(
    staff_client, force_officers, org
) -> None:
    before = state()
    job = upload(staff_client, hr_file(stays_rank="Sergeant"))
    assert job.status == OfficerImport.Status.READY
    assert state() == before
    counts = job.preview["counts"]
    assert counts == {
        "created": 1,
        "updated": 1,
        "moved": 1,
        "role_changed": 1,
        "leavers": 1,
        "unchanged": 0,
        "units_created": 1,
        "staff_absent": 1,  # the administrator who uploads is in the force, not in the file
    }
    body = page(staff_client, job)
    assert "Check what this import would do" in body
    assert "new@police.scot" in body and "Police Scotland / North / Tayside / Perth" in body
    assert "rank Constable → Sergeant" in body
    assert "Police Scotland / North / Tayside / Dundee Response → " in body
    assert "learner → training lead" in body
    assert "leaves@police.scot" in body and "Also deactivate the 1 leaver" in body


def test_problems_are_listed_by_line_and_nothing_changes(staff_client, force_officers) -> None:
    before = state()
    job = upload(
        staff_client,
        csv_bytes(
            "not-an-email,A,B,X1,Police Scotland,,PC,learner",
            "b@police.scot,A,B,X2,Nowhere Police,,PC,learner",
            "c@police.scot,A,B,P1,Police Scotland,,PC,learner",  # P1 is Sam's
        ),
    )
    assert job.status == OfficerImport.Status.REJECTED
    assert job.error_count == 3 and job.data == b""
    body = page(staff_client, job)
    assert "Nothing was imported: 3 problems" in body
    assert "Line 2: email &#x27;not-an-email&#x27; is not a valid address" in body
    assert "Line 3: unknown force &#x27;Nowhere Police&#x27;" in body
    assert "Line 4: duplicate service number P1 in Police Scotland" in body
    assert "Confirm and import" not in body
    assert state() == before


# ------------------------------------------------------------------------------ apply


def test_confirm_applies_everything_and_keeps_leavers_unless_asked(
    staff_client, force_officers, org
) -> None:
    job = act(staff_client, upload(staff_client, hr_file()), "confirm")
    assert job.status == OfficerImport.Status.DONE
    assert job.data == b""  # the HR file is not kept
    assert job.result["created"] == 1 and job.result["deactivated"] == 0
    moves = User.objects.get(email="moves@police.scot")
    assert moves.officer.unit == org.leith
    assert primary_role(moves) == Role.TRAINING_LEAD
    new = User.objects.get(email="new@police.scot")
    assert new.officer.unit.full_name == "Police Scotland / North / Tayside / Perth"
    assert not new.has_usable_password()
    assert User.objects.get(email="leaves@police.scot").is_active
    body = page(staff_client, job)
    assert "1 officer created" in body and "1 officer not in the file was left active" in body


def test_leavers_are_deactivated_only_when_confirmed_and_keep_their_records(
    staff_client, force_officers, home
) -> None:
    leaver = force_officers["leaves"]
    course = make_course(home, title="Naloxone")
    Enrolment.objects.create(user=leaver, course=course)
    signed_in = Client()
    signed_in.force_login(leaver)
    assert signed_in.get("/learning/").status_code == 200

    job = upload(staff_client, hr_file())
    job = act(staff_client, job, "confirm", deactivate_leavers="on")
    assert job.status == OfficerImport.Status.DONE
    assert job.result["deactivated"] == 1
    leaver.refresh_from_db()
    assert not leaver.is_active
    assert OfficerProfile.objects.filter(user=leaver).exists()
    assert Enrolment.objects.filter(user=leaver, course=course).exists()
    assert signed_in.get("/learning/").status_code == 302  # signed out
    assert User.objects.get(email="stays@police.scot").is_active

    # Back in the next file: active again, shown as a return.
    returning = csv_bytes(
        "leaves@police.scot,Lee,Leaves,P3,Police Scotland,East/Leith Response,Constable,learner"
    )
    job = upload(staff_client, returning)
    assert "returns: account re-activated" in page(staff_client, job)
    act(staff_client, job, "confirm")
    leaver.refresh_from_db()
    assert leaver.is_active


def test_the_same_file_again_changes_nothing(staff_client, force_officers) -> None:
    act(staff_client, upload(staff_client, hr_file()), "confirm")
    before = state()
    job = upload(staff_client, hr_file())
    counts = job.preview["counts"]
    assert counts["unchanged"] == 3
    assert counts["created"] == counts["updated"] == counts["moved"] == 0
    assert counts["role_changed"] == 0
    act(staff_client, job, "confirm")
    assert state() == before


def test_imported_officers_get_their_units_assignments(
    staff_client, force_officers, org, home, administrator
) -> None:
    from training.assignments import assignment_rule_create
    from training.models import Assignment

    course = make_course(home, title="Trauma-informed practice")
    assignment_rule_create(by=administrator, course=course, unit=org.east, due_days=30)
    assert not Assignment.objects.filter(user__email="moves@police.scot").exists()
    act(staff_client, upload(staff_client, hr_file()), "confirm")
    moved = Assignment.objects.get(user__email="moves@police.scot", course=course)
    assert moved.unit_path == org.leith.path
    assert not Assignment.objects.filter(user__email="new@police.scot").exists()  # North


# ------------------------------------------------------------------------------ XLSX


def test_an_xlsx_workbook_imports_like_a_csv(staff_client, org) -> None:
    data = xlsx_bytes(
        [
            [
                "Email",
                "Given_name",
                "Family_name",
                "Service_number",
                "Force",
                "Unit",
                "Rank",
                "Role",
                None,
            ],
            [
                "x.one@police.scot",
                "Xan",
                "One",
                1001,
                "Police Scotland",
                "North/Tayside/Dundee Response",
                "Constable",
                "learner",
            ],
            [],
            ["x.two@police.scot", "Xi", "Two", "A-2", "Police Scotland", None, None, None],
        ]
    )
    job = upload(staff_client, data, name="HR export.xlsx")
    assert job.status == OfficerImport.Status.READY, job.errors
    assert job.preview["counts"]["created"] == 2
    act(staff_client, job, "confirm")
    one = User.objects.get(email="x.one@police.scot")
    assert one.officer.service_number == "1001"  # a number cell, as HR meant it
    assert one.officer.unit == org.dundee
    assert User.objects.get(email="x.two@police.scot").officer.unit == org.force


def test_xlsx_problems_are_reported_by_spreadsheet_row(staff_client, org) -> None:
    data = xlsx_bytes(
        [
            list(HEADER.split(",")),
            ["ok@police.scot", "O", "K", "K1", "Police Scotland", "", "", ""],
            ["bad", "B", "", "K2", "Police Scotland", "", "", "chief"],
        ]
    )
    job = upload(staff_client, data, name="officers.xlsx")
    assert job.status == OfficerImport.Status.REJECTED
    messages = [message for line, message in job.errors if line == 3]
    assert len(messages) == 3  # email, family name, role: all on row 3
    assert not User.objects.filter(email="ok@police.scot").exists()


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 this is not really a zip file",
        b"PK\x03\x04" + b"\x00" * 200,
    ],
)
def test_a_damaged_workbook_is_refused_with_a_message(staff_client, org, data: bytes) -> None:
    job = upload(staff_client, data, name="officers.xlsx")
    assert job.status == OfficerImport.Status.REJECTED
    assert "cannot be read as an Excel workbook" in page(staff_client, job)


def test_a_workbook_that_unpacks_to_too_much_is_refused(org, settings) -> None:
    settings.PATHWAYS_MAX_CSV_BYTES = 50_000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 2_000_000)
    with pytest.raises(ImportRejected) as refused:
        officer_file_read(out.getvalue(), "bomb.xlsx")
    assert "unpacks to more" in str(refused.value)


def test_the_upload_form_refuses_other_files(staff_client) -> None:
    for name, data, message in (
        ("photo.png", b"\x89PNG\r\n", "Choose a .csv or .xlsx file"),
        ("officers.xlsx", b"email,given_name\n", "not an Excel workbook"),
        ("officers.csv", b"\x00\x01binary", "not a text CSV file"),
    ):
        response = staff_client.post(IMPORT, {"file": SimpleUploadedFile(name, data)})
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not OfficerImport.objects.exists()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.binary(max_size=400))
def test_any_bytes_named_xlsx_are_read_or_refused(org, data: bytes) -> None:
    for candidate in (data, b"PK\x03\x04" + data):
        try:
            officer_file_read(candidate, "officers.xlsx")
        except ImportRejected as exc:
            assert exc.errors


# ------------------------------------------------------------------------------ who


def test_only_the_uploader_sees_or_acts_on_an_import(
    staff_client, force_officers, org, north_lead
) -> None:
    job = upload(staff_client, hr_file())
    other_admin = make_officer(unit=org.force, role=Role.ADMINISTRATOR, email="a2@police.scot")
    for intruder in (other_admin, north_lead):
        client = Client()
        client.force_login(intruder)
        assert client.get(f"{IMPORT}{job.pk}/").status_code == 404
        assert client.post(f"{IMPORT}{job.pk}/", {"action": "confirm"}).status_code == 404
        assert job.filename not in client.get(IMPORT).content.decode()
    job.refresh_from_db()
    assert job.status == OfficerImport.Status.READY


def test_a_learner_cannot_reach_an_import(force_officers, staff_client) -> None:
    job = upload(staff_client, hr_file())
    client = Client()
    client.force_login(force_officers["stays"])
    assert client.get(f"{IMPORT}{job.pk}/").status_code in (302, 403)
    assert client.post(f"{IMPORT}{job.pk}/", {"action": "confirm"}).status_code in (302, 403)
    job.refresh_from_db()
    assert job.status == OfficerImport.Status.READY


def test_a_leads_leavers_are_only_officers_of_their_units(
    force_officers, org, north_lead, no_staff_mfa
) -> None:
    client = Client()
    client.force_login(north_lead)
    job = upload(
        client,
        csv_bytes(
            "stays@police.scot,Sam,Stays,P1,Police Scotland,North/Tayside/Dundee Response,,learner"
        ),
    )
    assert job.status == OfficerImport.Status.READY, job.errors
    leavers = {email for _line, email, _name, _detail in job.preview["leavers"]}
    assert leavers == {"moves@police.scot"}  # not Leith's officer, not the lead themself
    act(client, job, "confirm", deactivate_leavers="on")
    assert not User.objects.get(email="moves@police.scot").is_active
    assert User.objects.get(email="leaves@police.scot").is_active


def test_rights_withdrawn_after_the_preview_stop_the_import(
    staff_client, force_officers, administrator
) -> None:
    from officers.roles import user_set_role

    job = upload(staff_client, hr_file(stays_rank="Inspector"))
    user_set_role(user=administrator, role=Role.LEARNER)  # no longer an administrator
    before = state()
    import_jobs.import_job_confirm(job, deactivate_leavers=False)
    job.refresh_from_db()
    assert job.status == OfficerImport.Status.REJECTED
    assert "no longer import" in job.errors[0][1]
    assert state() == before


# ------------------------------------------------------------------------------ races


def test_concurrent_uploads_each_apply_what_was_previewed_or_nothing(
    staff_client, force_officers, administrator
) -> None:
    """Two files previewed side by side: the first confirmed applies; the second now would do
    something else than its preview showed, so it applies nothing and offers a new preview."""
    first = upload(staff_client, hr_file(stays_rank="Sergeant"))
    second = upload(staff_client, hr_file(stays_rank="Inspector"))
    assert first.status == second.status == OfficerImport.Status.READY
    act(staff_client, first, "confirm")
    after_first = state()
    second = act(staff_client, second, "confirm")
    assert second.status == OfficerImport.Status.FAILED
    assert "changed after the preview" in page(staff_client, second)
    assert state() == after_first
    second = act(staff_client, second, "retry")
    assert second.status == OfficerImport.Status.READY
    assert second.preview["counts"]["updated"] == 1  # now only the rank
    assert second.preview["counts"]["created"] == 0
    act(staff_client, second, "confirm")
    assert User.objects.get(email="stays@police.scot").officer.rank == "Inspector"


def test_a_second_confirm_or_a_bad_action_does_nothing(staff_client, force_officers) -> None:
    job = upload(staff_client, hr_file())
    response = staff_client.post(f"{IMPORT}{job.pk}/", {"action": "delete-everything"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == OfficerImport.Status.READY
    act(staff_client, job, "confirm")
    done = state()
    response = staff_client.post(f"{IMPORT}{job.pk}/", {"action": "confirm"}, follow=True)
    assert "no longer waiting to be confirmed" in response.content.decode()
    assert state() == done
    assert staff_client.get(f"{IMPORT}999999/").status_code == 404


def test_cancel_deletes_the_file_and_changes_nothing(staff_client, force_officers) -> None:
    before = state()
    job = act(staff_client, upload(staff_client, hr_file()), "cancel")
    assert job.status == OfficerImport.Status.CANCELLED and job.data == b""
    assert "cancelled" in page(staff_client, job)
    assert act(staff_client, job, "confirm").status == OfficerImport.Status.CANCELLED
    assert state() == before


def test_a_failing_apply_changes_nothing_and_says_so(
    staff_client, force_officers, monkeypatch
) -> None:
    from officers import imports

    job = upload(staff_client, hr_file())
    before = state()

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "_write", broken)
    job = act(staff_client, job, "confirm")
    assert job.status == OfficerImport.Status.FAILED
    assert "something went wrong" in page(staff_client, job)
    assert state() == before


def test_a_running_import_shows_progress_and_refreshes(staff_client, force_officers) -> None:
    job = upload(staff_client, hr_file())
    OfficerImport.objects.filter(pk=job.pk).update(status=OfficerImport.Status.APPLYING)
    import_jobs.progress_set(job.pk, "writing accounts", 1200, 16000)
    response = staff_client.get(f"{IMPORT}{job.pk}/")
    body = response.content.decode()
    assert response["Refresh"] == "3"
    assert "Writing accounts: 1200 of 16000." in body
    assert 'max="16000" value="1200"' in body


def test_a_stalled_import_can_be_previewed_again(staff_client, force_officers, settings) -> None:
    job = upload(staff_client, hr_file())
    OfficerImport.objects.filter(pk=job.pk).update(status=OfficerImport.Status.PREVIEWING)
    settings.PATHWAYS_IMPORT_STALL_SECONDS = -1
    response = staff_client.get(f"{IMPORT}{job.pk}/")
    assert "Refresh" not in response
    assert "worker may have stopped" in response.content.decode()
    assert act(staff_client, job, "retry").status == OfficerImport.Status.READY


# ------------------------------------------------------------------------------ bulk


def big_file(n: int, start: int = 0) -> bytes:
    return csv_bytes(
        *(
            f"bulk{i}@police.scot,Given{i},Family{i},B{i},Police Scotland,"
            f"North/Team {i % 7},Constable,learner"
            for i in range(start, start + n)
        )
    )


def queries(action) -> int:  # noqa: ANN001
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


def test_planning_and_applying_read_and_write_in_bulk(org, administrator) -> None:
    """The queries of a preview and of an apply do not grow with the number of rows."""
    small_rows, _ = officer_file_read(big_file(20))
    large_rows, _ = officer_file_read(big_file(400, start=1000))
    small_plan = queries(lambda: officer_import_plan(small_rows, actor=administrator))
    large_plan = queries(lambda: officer_import_plan(large_rows, actor=administrator))
    assert large_plan == small_plan
    small = queries(
        lambda: officer_import_apply(small_rows, actor=administrator, send_invitations=False)
    )
    large = queries(
        lambda: officer_import_apply(large_rows, actor=administrator, send_invitations=False)
    )
    # The same 7 teams, now found rather than created; SQLite inserts at most 999 values per
    # statement, so its inserts come in batches of about a hundred rows: never a query a row.
    assert large - small <= len(large_rows) // 50, (small, large)
    assert User.objects.filter(email__startswith="bulk").count() == 420


def test_leavers_block_an_import_only_when_they_are_to_be_deactivated(
    staff_client, force_officers, org
) -> None:
    """An officer added elsewhere in the force after the preview is a new leaver: it changes
    nothing for an import that keeps leavers, and stops one that would deactivate them."""
    keep = upload(staff_client, hr_file())
    deactivate = upload(staff_client, hr_file())
    make_officer(unit=org.leith, email="joined.meanwhile@police.scot")
    deactivate = act(staff_client, deactivate, "confirm", deactivate_leavers="on")
    assert deactivate.status == OfficerImport.Status.FAILED
    assert User.objects.get(email="leaves@police.scot").is_active
    keep = act(staff_client, keep, "confirm")
    assert keep.status == OfficerImport.Status.DONE
    assert User.objects.get(email="joined.meanwhile@police.scot").is_active


def test_unconfirmed_files_are_deleted_after_a_day_and_old_imports_forgotten(
    staff_client, force_officers
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    waiting = upload(staff_client, hr_file())
    old = act(staff_client, upload(staff_client, hr_file()), "confirm")
    now = timezone.now()
    OfficerImport.objects.filter(pk=waiting.pk).update(updated_at=now - timedelta(days=2))
    OfficerImport.objects.filter(pk=old.pk).update(updated_at=now - timedelta(days=31))
    upload(staff_client, hr_file())  # any new upload tidies up
    waiting.refresh_from_db()
    assert waiting.status == OfficerImport.Status.CANCELLED and waiting.data == b""
    assert not OfficerImport.objects.filter(pk=old.pk).exists()


# ------------------------------------------------------------------------------ hostile files


def with_dimension(data: bytes, ref: str) -> bytes:
    """The workbook with the size its first sheet declares for itself replaced (some
    exporters write a wrong one, e.g. "A1")."""
    import re

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(
                    rb'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>'.encode(), content
                )
            target.writestr(item, content)
    return out.getvalue()


@pytest.mark.parametrize("ref", ["A1:H5", "A1", "A1:XFD1048576"])
def test_a_sheet_that_misstates_its_size_is_read_whole(org, ref: str) -> None:
    """Otherwise officers in the file would be missed, and could be deactivated as leavers."""
    rows = [HEADER.split(",")] + [
        [f"o{i}@police.scot", "O", f"N{i}", f"X{i}", "Police Scotland", "", "", ""]
        for i in range(10)
    ]
    read, errors = officer_file_read(with_dimension(xlsx_bytes(rows), ref), "hr.xlsx")
    assert not errors
    assert [r.email for r in read] == [f"o{i}@police.scot" for i in range(10)]


def test_a_sheet_longer_than_any_hr_file_is_refused(org, monkeypatch) -> None:
    from officers import imports

    monkeypatch.setattr(imports, "MAX_XLSX_ROWS", 5)
    rows = [HEADER.split(",")] + [
        [f"o{i}@police.scot", "O", "N", f"X{i}", "Police Scotland", "", "", ""] for i in range(9)
    ]
    _read, errors = officer_file_read(xlsx_bytes(rows), "hr.xlsx")
    assert [str(e) for e in errors] == ["Line 6: the sheet goes on beyond row 5"]


def test_the_first_visible_sheet_is_read_and_an_empty_one_is_named(org) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    hidden = workbook.active
    hidden.title = "Old"
    hidden.append(["nothing", "here"])
    hidden.sheet_state = "hidden"
    officers = workbook.create_sheet("Officers")
    officers.append(HEADER.split(","))
    officers.append(["v@police.scot", "V", "Isible", "V1", "Police Scotland", "", "", ""])
    out = io.BytesIO()
    workbook.save(out)
    read, errors = officer_file_read(out.getvalue(), "hr.xlsx")
    assert not errors and [r.email for r in read] == ["v@police.scot"]

    empty = Workbook()
    empty.active.title = "Sheet A"
    out = io.BytesIO()
    empty.save(out)
    with pytest.raises(ImportRejected) as refused:
        officer_file_read(out.getvalue(), "hr.xlsx")
    assert "the sheet 'Sheet A' is empty" in str(refused.value)


def test_huge_cells_are_quoted_short_and_problems_stop_at_a_thousand(org) -> None:
    huge = "A" * 400_000  # three to a row, three rows: just under the 5 MB limit
    rows = [f"x{i}@police.scot,X,Y,{huge},Police Scotland,{huge}//,,{huge}" for i in range(1500)]
    _read, errors = officer_file_read(csv_bytes(*rows[:3]))
    assert errors and all(len(e.message) < 400 for e in errors)
    _read, errors = officer_file_read(
        csv_bytes(*(f"bad{i},X,Y,S{i},Police Scotland,,,learner" for i in range(3000)))
    )
    assert len(errors) == 1001
    assert errors[-1].message == "more problems from here on are not listed"


@pytest.mark.parametrize("email", ["ıan@police.scot", "ſtays@police.scot", "a@police.scot\u200b"])
def test_look_alike_addresses_are_refused(org, email: str) -> None:
    _read, errors = officer_file_read(csv_bytes(f"{email},A,B,L1,Police Scotland,,,learner"))
    assert [e.message for e in errors] == [f"email {email!r} has characters other than plain ASCII"]


def test_a_lead_cannot_bring_back_a_deactivated_account(force_officers, north_lead) -> None:
    stays = force_officers["stays"]
    stays.is_active = False
    stays.save()
    rows, _ = officer_file_read(
        csv_bytes(
            "stays@police.scot,Sam,Stays,P1,Police Scotland,North/Tayside/Dundee Response,"
            "Constable,learner"
        )
    )
    plan = officer_import_plan(rows, actor=north_lead)
    assert [e.message for e in plan.errors] == [
        "stays@police.scot's account has been deactivated; only an administrator can bring it back"
    ]
