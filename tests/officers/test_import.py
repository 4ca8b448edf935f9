"""Officer CSV import: all rows or none, every bad row reported with its line number."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from officers.imports import ImportRejected, import_officers, parse_officer_csv
from officers.models import OfficerProfile, Role, Unit, User
from officers.roles import primary_role

HEADER = "email,given_name,family_name,service_number,force,unit,rank,role\n"


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(r + "\n" for r in rows)).encode()


GOOD = csv_bytes(
    "Jo.Bloggs@police.scot,Jo,Bloggs,A1001,Police Scotland,North/Tayside/Dundee Response,"
    "Constable,learner",
    "sam.lee@police.scot,Sam,Lee,A1002,Police Scotland,North/Highland/Inverness,Sergeant,"
    "training_lead",
    "kim.wu@police.scot,Kim,Wu,A1003,police scotland,,Inspector,Author",
)


def snapshot() -> tuple[int, int, int]:
    return User.objects.count(), OfficerProfile.objects.count(), Unit.objects.count()


def test_good_file_creates_officers_units_roles_and_invites(
    org, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report = import_officers(GOOD)
    assert sorted(report.created) == [
        "jo.bloggs@police.scot",
        "kim.wu@police.scot",
        "sam.lee@police.scot",
    ]
    jo = User.objects.get(email="jo.bloggs@police.scot")
    assert (jo.first_name, jo.last_name) == ("Jo", "Bloggs")
    assert jo.officer.unit == org.dundee
    assert jo.officer.force == org.force
    assert jo.officer.rank == "Constable"
    assert not jo.has_usable_password()
    sam = User.objects.get(email="sam.lee@police.scot")
    assert sam.officer.unit.full_name == "Police Scotland / North / Highland / Inverness"
    assert sam.officer.unit.kind == Unit.Kind.TEAM
    assert sam.officer.unit.get_parent().kind == Unit.Kind.DIVISION
    assert primary_role(sam) == Role.TRAINING_LEAD
    kim = User.objects.get(email="kim.wu@police.scot")
    assert kim.officer.unit == org.force
    assert primary_role(kim) == Role.AUTHOR
    assert report.units_created == [
        "Police Scotland / North / Highland",
        "Police Scotland / North / Highland / Inverness",
    ]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(report.created)
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_invitation_link_lets_the_officer_set_a_password(
    org, client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        import_officers(
            csv_bytes("new@police.scot,New,Officer,B1,Police Scotland,,Constable,learner")
        )
    url = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/" in line)
    path = url.split("127.0.0.1:8000", 1)[1] if "127.0.0.1:8000" in url else url
    response = client.get(path, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(
        form_url, {"password1": "a-long-new-passphrase", "password2": "a-long-new-passphrase"}
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@police.scot")
    assert user.check_password("a-long-new-passphrase")
    # The link proved the address: the officer can sign in straight away.
    response = client.post(
        "/accounts/login/", {"login": "new@police.scot", "password": "a-long-new-passphrase"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_reimporting_the_same_file_changes_nothing(org, django_capture_on_commit_callbacks) -> None:
    import_officers(GOOD)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = import_officers(GOOD)
    assert callbacks == []
    assert report.created == [] and report.updated == [] and report.unchanged == 3
    assert snapshot() == before
    assert mail.outbox == []


def test_changed_row_updates_that_officer_only(org) -> None:
    import_officers(GOOD)
    changed = GOOD.replace(b"Constable,learner", b"Sergeant,learner").replace(
        b"North/Tayside/Dundee Response", b"East/Leith Response"
    )
    report = import_officers(changed)
    assert report.updated == ["jo.bloggs@police.scot"]
    assert report.unchanged == 2
    jo = OfficerProfile.objects.get(user__email="jo.bloggs@police.scot")
    assert jo.rank == "Sergeant"
    assert jo.unit == org.leith


def test_columns_may_come_in_any_order_and_with_a_bom(org) -> None:
    data = (
        "\ufeffrole,email,given_name,family_name,service_number,force,unit,rank\n"
        "learner,a@police.scot,A,B,C9,Police Scotland,East,Constable\n"
    )
    report = import_officers(data.encode())
    assert report.created == ["a@police.scot"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (",Jo,Bloggs,A1,Police Scotland,,Constable,learner", "email is missing"),
        ("not-an-email,Jo,Bloggs,A1,Police Scotland,,Constable,learner", "not a valid address"),
        ("jo@police.scot,,Bloggs,A1,Police Scotland,,Constable,learner", "given name is missing"),
        (
            "jo@police.scot,Jo,Bloggs,,Police Scotland,,Constable,learner",
            "service number is missing",
        ),
        (
            "jo@police.scot,Jo,Bloggs,A1,Police Scotland,,Constable,superhero",
            "unknown role 'superhero'",
        ),
        (
            "jo@police.scot,Jo,Bloggs,A1,Atlantis Police,,Constable,learner",
            "unknown force 'Atlantis Police'",
        ),
        (
            "jo@police.scot,Jo,Bloggs,A1,Police Scotland,North//Dundee,Constable,learner",
            "empty part",
        ),
        ("jo@police.scot,Jo,Bloggs,A1,Police Scotland,,Constable", "expected 8 values, found 7"),
    ],
)
def test_each_bad_row_is_refused_with_its_line_and_reason(org, row: str, message: str) -> None:
    good = "ok@police.scot,Ok,Fine,OK1,Police Scotland,,Constable,learner"
    before = snapshot()
    with pytest.raises(ImportRejected) as caught:
        import_officers(csv_bytes(good, row))
    assert [e.line for e in caught.value.errors] == [3]
    assert message in caught.value.errors[0].message
    assert snapshot() == before
    assert mail.outbox == []


def test_duplicate_service_number_in_the_file(org) -> None:
    data = csv_bytes(
        "a@police.scot,A,A,X1,Police Scotland,,Constable,learner",
        "b@police.scot,B,B,x1,Police Scotland,,Constable,learner",
    )
    with pytest.raises(ImportRejected) as caught:
        import_officers(data)
    assert [str(e) for e in caught.value.errors] == [
        "Line 3: duplicate service number x1 in Police Scotland (also on line 2)"
    ]


def test_same_service_number_in_another_force_is_fine(org) -> None:
    data = csv_bytes(
        "a@police.scot,A,A,X1,Police Scotland,,Constable,learner",
        "b@met.police.uk,B,B,X1,Metropolitan Police,,Constable,learner",
    )
    assert len(import_officers(data).created) == 2


def test_duplicate_service_number_already_in_the_database(org, learner) -> None:
    number = learner.officer.service_number
    data = csv_bytes(f"other@police.scot,O,Ther,{number},Police Scotland,,Constable,learner")
    with pytest.raises(ImportRejected) as caught:
        import_officers(data)
    assert "already belongs to another officer" in str(caught.value)
    assert not User.objects.filter(email="other@police.scot").exists()


def test_duplicate_email_in_the_file(org) -> None:
    data = csv_bytes(
        "a@police.scot,A,A,X1,Police Scotland,,Constable,learner",
        "A@police.scot,A,A,X2,Police Scotland,,Constable,learner",
    )
    with pytest.raises(ImportRejected, match="also on line 2"):
        import_officers(data)


@pytest.mark.parametrize(
    "header",
    [
        "email,given_name,family_name,service_number,force,unit,rank\n",
        "email,first,family_name,service_number,force,unit,rank,role\n",
        "email,given_name,family_name,service_number,force,unit,rank,role,notes\n",
        "email,email,family_name,service_number,force,unit,rank,role\n",
    ],
)
def test_wrong_header_is_refused(org, header: str) -> None:
    with pytest.raises(ImportRejected) as caught:
        import_officers(
            csv_bytes("a@police.scot,A,A,X1,Police Scotland,,Constable,learner", header=header)
        )
    assert caught.value.errors[0].line == 1
    assert "wrong header" in caught.value.errors[0].message
    assert User.objects.count() == 0


def test_non_utf8_bytes_are_refused_with_their_line(org) -> None:
    data = csv_bytes("a@police.scot,A,A,X1,Police Scotland,,Constable,learner") + (
        "b@police.scot,Zo\u00eb,B,X2,Police Scotland,,Constable,learner\n".encode("latin-1")
    )
    with pytest.raises(ImportRejected) as caught:
        import_officers(data)
    assert caught.value.errors[0].line == 3
    assert "not UTF-8" in caught.value.errors[0].message
    assert User.objects.count() == 0


def test_every_bad_row_is_reported_together(org) -> None:
    data = csv_bytes(
        "bad-email,A,A,X1,Police Scotland,,Constable,learner",
        "fine@police.scot,F,F,X2,Police Scotland,,Constable,learner",
        "c@police.scot,C,C,X3,Nowhere,,Constable,learner",
        "d@police.scot,D,D,X4,Police Scotland,,Constable,chief",
    )
    with pytest.raises(ImportRejected) as caught:
        import_officers(data)
    assert [e.line for e in caught.value.errors] == [2, 4, 5]
    assert User.objects.count() == 0


def test_empty_and_header_only_files(org) -> None:
    with pytest.raises(ImportRejected, match="empty"):
        import_officers(b"")
    with pytest.raises(ImportRejected, match="no officers"):
        import_officers(HEADER.encode())


def test_oversized_file_is_refused(org, settings) -> None:
    settings.PATHWAYS_MAX_CSV_BYTES = 100
    with pytest.raises(ImportRejected, match="larger than"):
        import_officers(GOOD)


def test_parse_is_pure_and_returns_rows(db) -> None:
    rows, errors = parse_officer_csv(GOOD)
    assert errors == []
    assert [r.line for r in rows] == [2, 3, 4]
    assert rows[0].unit == ("North", "Tayside", "Dundee Response")
    assert rows[0].email == "jo.bloggs@police.scot"


def test_management_command(org, tmp_path, capsys) -> None:
    path = tmp_path / "officers.csv"
    path.write_bytes(GOOD)
    call_command("import_officers", str(path), "--no-invitations")
    assert "3 officer(s) created" in capsys.readouterr().out
    assert mail.outbox == []
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes("x,A,A,X1,Police Scotland,,Constable,learner"))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_officers", str(bad))
    assert "Line 2: email 'x' is not a valid address" in capsys.readouterr().err
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_officers", str(tmp_path / "missing.csv"))


# ----------------------------------------------------------------- admin upload


def upload(client, data: bytes, name: str = "officers.csv"):  # noqa: ANN001, ANN201
    """Upload, read the preview, confirm it: the import page's journey. Returns the job's page
    once it has ended (or the upload's response, if the upload was refused)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/admin/officers/import/", {"file": SimpleUploadedFile(name, data, "text/csv")}
    )
    if response.status_code != 302 or not response["Location"].startswith(
        "/admin/officers/import/"
    ):
        return response
    job = response["Location"]
    page = client.get(job)
    if "Confirm and import" in page.content.decode():
        assert client.post(job, {"action": "confirm"}).status_code == 302
        page = client.get(job)
    return page


def test_admin_upload_imports_for_an_administrator(client, administrator, no_staff_mfa) -> None:
    client.force_login(administrator)
    assert client.get("/admin/officers/import/").status_code == 200
    response = upload(client, GOOD)
    assert response.status_code == 200
    assert "3 officers created" in response.content.decode()
    assert User.objects.filter(email="kim.wu@police.scot").exists()


def test_admin_upload_lists_every_problem_and_changes_nothing(
    client, administrator, no_staff_mfa
) -> None:
    client.force_login(administrator)
    before = snapshot()
    response = upload(
        client,
        csv_bytes(
            "x,A,A,X1,Police Scotland,,Constable,learner",
            "y@police.scot,B,B,X2,Nowhere,,Constable,learner",
        ),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Line 2: email &#x27;x&#x27; is not a valid address" in body
    assert "Line 3: unknown force &#x27;Nowhere&#x27;" in body
    assert "Nothing was imported" in body
    assert snapshot() == before


def test_admin_upload_refuses_non_csv_files(client, administrator, no_staff_mfa) -> None:
    client.force_login(administrator)
    response = upload(client, b"\x89PNG\r\n\x1a\n\x00\x00", name="photo.png")
    assert "Choose a .csv or .xlsx file" in response.content.decode()
    response = upload(client, b"\x00\x01binary", name="sneaky.csv")
    assert "not a text CSV file" in response.content.decode()


def test_training_lead_imports_learners_into_their_units_only(
    client, org, north_lead, east_lead, no_staff_mfa
) -> None:
    client.force_login(north_lead)
    ok = csv_bytes("a@police.scot,A,A,X1,Police Scotland,North/Tayside/New Team,Constable,learner")
    assert "1 officer created" in upload(client, ok).content.decode()
    assert User.objects.get(email="a@police.scot").officer.unit.full_name.endswith("New Team")

    before = snapshot()
    bad = csv_bytes(
        "b@police.scot,B,B,X2,Police Scotland,East/Leith Response,Constable,learner",
        "c@police.scot,C,C,X3,Police Scotland,North,Constable,administrator",
        f"{east_lead.email},E,L,X4,Police Scotland,North,Constable,learner",
    )
    body = upload(client, bad).content.decode()
    assert "Line 2: the unit is not one of the units you lead" in body
    assert "Line 3: training leads can import learners only" in body
    assert "Line 4: " in body and "staff role" in body
    assert snapshot() == before


def test_a_leads_import_never_takes_over_accounts_outside_their_units(org, north_lead) -> None:
    """A self sign-up with no unit, an account with no officer profile (staff made in
    Wagtail's Users admin), an officer with no unit, and staff in any form are left alone."""
    from officers.roles import user_set_role

    signed_up = User.objects.create_user(email="self.signup@police.scot", password="x" * 12)
    unplaced = User.objects.create_user(email="unplaced@police.scot", password="x" * 12)
    OfficerProfile.objects.create(user=unplaced, force=org.force, unit=None, service_number="U1")
    author = User.objects.create_user(email="wagtail.author@police.scot", password="x" * 12)
    user_set_role(user=author, role=Role.AUTHOR)
    lead = User.objects.create_user(email="Other.Lead@police.scot", password="x" * 12)
    user_set_role(user=lead, role=Role.TRAINING_LEAD)
    before = snapshot()
    names = {u.pk: (u.first_name, u.last_name) for u in User.objects.all()}
    rows = [
        f"{u.email},Taken,Over,T{n},Police Scotland,North/Tayside,Constable,learner"
        for n, u in enumerate((signed_up, unplaced, author, lead))
    ]
    with pytest.raises(ImportRejected) as rejected:
        import_officers(csv_bytes(*rows), actor=north_lead)
    messages = [str(e) for e in rejected.value.errors]
    assert "not in any unit" in messages[0] and "not in any unit" in messages[1]
    assert "staff role" in messages[2] and "staff role" in messages[3]
    assert snapshot() == before
    assert {u.pk: (u.first_name, u.last_name) for u in User.objects.all()} == names
    assert primary_role(author) == Role.AUTHOR and primary_role(lead) == Role.TRAINING_LEAD
    assert OfficerProfile.objects.get(user=unplaced).unit is None


def test_an_administrator_may_place_an_account_that_has_no_unit(org) -> None:
    signed_up = User.objects.create_user(email="self.signup@police.scot", password="x" * 12)
    import_officers(
        csv_bytes(f"{signed_up.email},Self,Signup,S1,Police Scotland,North,Constable,learner"),
        send_invitations=False,
    )
    assert signed_up.officer.unit.name == "North"


def test_learner_cannot_reach_the_import(client, learner) -> None:
    client.force_login(learner)
    response = upload(client, GOOD)
    assert response.status_code in (302, 403)
    assert not User.objects.filter(email="kim.wu@police.scot").exists()


def test_anonymous_is_sent_to_sign_in(client, db) -> None:
    response = client.get("/admin/officers/import/")
    assert response.status_code == 302
    assert response["Location"].startswith(("/accounts/login/", "/admin/login/"))
