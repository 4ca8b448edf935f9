"""Officer CSV import against hostile files: refused with a line error, nothing changed."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from officers import imports
from officers.imports import ImportRejected, import_officers, parse_officer_csv
from officers.models import OfficerProfile, Unit, User

HEADER = "email,given_name,family_name,service_number,force,unit,rank,role\n"
ROW = ["jo@police.scot", "Jo", "Bloggs", "A1", "Police Scotland", "North/Team", "PC", "learner"]


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def snapshot() -> tuple[int, int, int]:
    return User.objects.count(), OfficerProfile.objects.count(), Unit.objects.count()


def rejected(data: bytes) -> list[str]:
    before = snapshot()
    with pytest.raises(ImportRejected) as info:
        import_officers(data)
    assert snapshot() == before
    return [str(e) for e in info.value.errors]


def test_a_nul_byte_after_the_first_4_kb_is_refused(org) -> None:
    rows = [f"o{i}@police.scot,O,Officer,N{i},Police Scotland,,PC,learner" for i in range(100)]
    rows.append("nul@police.scot,N\x00l,Officer,NUL1,Police Scotland,,PC,learner")
    data = csv_bytes(*rows)
    assert data.index(b"\x00") > 4096
    assert rejected(data) == ["Line 102: the file contains a NUL byte; it is not a text CSV file"]


def test_an_email_longer_than_the_column_is_refused(org) -> None:
    email = "a" * 64 + "@" + ".".join(["b" * 63] * 3 + ["cccc"]) + ".scot"
    assert len(email) == 266
    errors = rejected(csv_bytes(f"{email},A,B,X1,Police Scotland,,PC,learner"))
    assert errors == ["Line 2: email is longer than 254 characters"]


def test_a_unit_path_deeper_than_ten_levels_is_refused(org) -> None:
    path = "/".join(f"L{i}" for i in range(70))
    errors = rejected(csv_bytes(f"a@police.scot,A,B,X1,Police Scotland,{path},PC,learner"))
    assert errors == ["Line 2: the unit path has 70 levels (at most 10 below the force)"]
    ten = "/".join(f"L{i}" for i in range(10))
    report = import_officers(csv_bytes(f"a@police.scot,A,B,X1,Police Scotland,{ten},PC,learner"))
    assert len(report.units_created) == 10


def test_a_unit_or_force_name_longer_than_the_column_is_refused(org) -> None:
    long = "U" * 121
    errors = rejected(
        csv_bytes(
            f"a@police.scot,A,B,X1,Police Scotland,North/{long},PC,learner",
            f"b@police.scot,A,B,X2,{long},,PC,learner",
        )
    )
    assert "Line 2: a unit name is longer than 120 characters" in errors
    assert "Line 3: force is longer than 120 characters" in errors


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and concurrent writers: PostgreSQL"
)
def test_the_same_file_imported_twice_at_once(transactional_db, monkeypatch) -> None:
    force = Unit.add_root(name="Police Scotland", kind=Unit.Kind.FORCE)
    data = csv_bytes(
        *(
            f"o{i}@police.scot,O,Officer,N{i},Police Scotland,North/T{i},PC,learner"
            for i in range(5)
        )
    )
    both_parsed = threading.Barrier(2, timeout=10)
    real_read = imports.officer_file_read

    def parse_together(data: bytes, filename: str = ""):  # noqa: ANN202
        result = real_read(data, filename)
        both_parsed.wait()  # both imports have read the file before either writes
        return result

    monkeypatch.setattr(imports, "officer_file_read", parse_together)
    reports: list[object] = []

    def run() -> None:
        try:
            reports.append(import_officers(data, send_invitations=False))
        except BaseException as exc:  # noqa: BLE001
            reports.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(isinstance(r, imports.ImportReport) for r in reports), reports
    assert sorted(len(r.created) for r in reports) == [0, 5]  # type: ignore[attr-defined]
    assert sorted(r.unchanged for r in reports) == [0, 5]  # type: ignore[attr-defined]
    assert OfficerProfile.objects.count() == 5
    assert Unit.objects.filter(path__startswith=force.path, depth__gt=1).count() == 6


# ------------------------------------------------------------------------- properties

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def only_rejected(data: bytes) -> None:
    before = snapshot()
    with contextlib.suppress(ImportRejected):
        parse_officer_csv(data)
    try:
        import_officers(data, send_invitations=False)
    except ImportRejected:
        assert snapshot() == before


@FUZZ
@given(data=st.binary(max_size=600))
def test_any_bytes_are_imported_or_rejected(org, data: bytes) -> None:
    only_rejected(HEADER.encode() + data)
    only_rejected(data)


@FUZZ
@given(column=st.integers(min_value=0, max_value=len(ROW) - 1), value=st.text(max_size=300))
def test_any_text_in_any_column_is_imported_or_rejected(org, column: int, value: str) -> None:
    row = list(ROW)
    row[column] = value
    quoted = ",".join('"' + v.replace('"', '""') + '"' for v in row)
    only_rejected((HEADER + quoted + "\n").encode("utf-8", "surrogatepass"))
