"""Spreadsheet exports are safe to open: no cell, in CSV or XLSX, ours or Wagtail's, is one a
spreadsheet would run as a formula (CSV / formula injection, OWASP), and what was entered stays
visible after the neutralising quote."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.translation import gettext_lazy
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from wagtail.admin.views.mixins import SpreadsheetExportMixin

from courses.models import CoursePage, Enrolment
from officers.models import Unit, User
from tests.factories import make_course, make_officer
from training.exports import cell_safe, stream_csv, xlsx_file

# What a spreadsheet may take for the start of a formula (OWASP: = + - @ tab CR LF; ASVS adds
# NUL), with the full-width, small, super/subscript forms that fold (NFKC) to them, and U+2212.
FORMULA_CHARS = "=+-@\t\r\n\0\u2212"
VARIANTS = "＝＋－＠﹦﹢﹣﹫⁼⁺⁻₌₊₋\u2212"


def reads_as_formula(text: str) -> bool:
    first = text[:1]
    return bool(first) and (
        first in FORMULA_CHARS or unicodedata.normalize("NFKC", first)[:1] in FORMULA_CHARS
    )


# ------------------------------------------------------------------------- the sanitiser


@given(st.text())
def test_no_text_comes_out_as_a_formula_and_the_original_stays_visible(text: str) -> None:
    safe = cell_safe(text)
    assert safe in (text, "'" + text)
    assert not reads_as_formula(safe)
    assert cell_safe(safe) == safe  # idempotent: going through two layers changes nothing


@given(st.sampled_from(FORMULA_CHARS + VARIANTS), st.text())
def test_text_starting_like_a_formula_is_quoted(first: str, rest: str) -> None:
    assert cell_safe(first + rest) == "'" + first + rest


@given(st.from_regex(r"\A[A-Za-z0-9'(\"]", fullmatch=False))
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert cell_safe(text) == text


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]
    + ["\t=1+1", "\r=1+1", "\n=1+1", "\0=1+1", "  =1+1", "\u00a0@SUM(A1)"]
    + ["＝1+1", "＋1", "－1", "＠SUM(A1)", "﹦1+1", "−1", "⁼1"],
)
def test_formula_starts(text: str) -> None:
    assert cell_safe(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["", " ", "Dundee Response", "1+1", "a=b", "Smith-Jones", "lead@police.scot", "'=1"]
)
def test_ordinary_text(text: str) -> None:
    assert cell_safe(text) == text


@pytest.mark.parametrize(
    "value",
    [None, 0, -2, 3.5, -1.5, Decimal("-3"), True, date(2027, 1, 2), time(9, 30)]
    + [datetime(2027, 1, 2, 9, 30), timedelta(days=-1), ["=1"], b"=1"],
)
def test_anything_but_text_is_returned_unchanged(value: object) -> None:
    assert cell_safe(value) is value


def test_a_lazy_translation_is_text() -> None:
    assert cell_safe(gettext_lazy("=1+1")) == "'=1+1"
    assert cell_safe(gettext_lazy("Name")) == "Name"


def test_our_writers_neutralise_every_cell() -> None:
    rows = [["Name", "Count"], ["=1+1", -2], ["@SUM(A1)", 3], [None, date(2027, 1, 2)]]
    response = stream_csv(rows, "x")
    text = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["Name", "Count"],
        ["'=1+1", "-2"],
        ["'@SUM(A1)", "3"],
        ["", "2027-01-02"],
    ]
    sheet = load_workbook(io.BytesIO(b"".join(xlsx_file(rows, "x").streaming_content))).active
    assert [[c.value for c in r] for r in sheet.iter_rows()][1:3] == [
        ["'=1+1", -2],
        ["'@SUM(A1)", 3],
    ]
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)


def test_every_wagtail_listing_export_is_covered_including_future_ones() -> None:
    """The start-up patch (pathways.apps) sits on Wagtail's mixin itself, so any view using
    it, even one written after this test, writes safe cells and headings."""

    class FutureListing(SpreadsheetExportMixin):
        list_export = ["name"]
        export_headings = {"name": "=Heading"}

    view = FutureListing()
    for export_format in view.FORMATS:
        assert view.preprocess_field_value("name", "=1+1", export_format) == "'=1+1"
        assert view.preprocess_field_value("name", -2, export_format) == -2
    assert view.get_heading(None, "name") == "'=Heading"


# --------------------------------------------------------------- the exports, end to end

NAMES = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)"]
UNIT = "=cmd|' /C calc'!A0"
COURSE = "=1+1"


@dataclass
class Hostile:
    unit: Unit
    course: CoursePage
    officers: list[User]


@pytest.fixture
def hostile(org, north_lead, home) -> Hostile:  # noqa: ANN001
    """A unit, a course and officers whose names are formulas: the first certified, the
    others overdue."""
    from certificates.services import certificate_issue
    from training.assignments import assignment_rule_create
    from training.models import Assignment

    unit = org.north.add_child(name=UNIT, kind=Unit.Kind.TEAM)
    course = make_course(home, title=COURSE, modules=1, lessons=1, validity_months=12)
    officers = [make_officer(unit=unit, first_name=name, last_name="") for name in NAMES]
    assignment_rule_create(by=north_lead, course=course, unit=unit, due_days=10)
    Assignment.objects.filter(user__in=officers).update(
        due_on=timezone.localdate() - timedelta(days=3)
    )
    enrolment = Enrolment.objects.create(
        user=officers[0], course=course, completed_at=timezone.now()
    )
    certificate_issue(enrolment=enrolment)
    return Hostile(unit, course, officers)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_cells(response) -> list[str]:  # noqa: ANN001
    assert response.status_code == 200
    content = b"".join(
        part if isinstance(part, bytes) else part.encode() for part in response.streaming_content
    )
    return [cell for row in csv.reader(io.StringIO(content.decode())) for cell in row]


def xlsx_values(response) -> list[object]:  # noqa: ANN001
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    return [c.value for c in cells]


def assert_safe(cells: list[object], *shown: str) -> None:
    """No cell reads as a formula, and each hostile value is there, quoted."""
    assert [c for c in cells if isinstance(c, str) and reads_as_formula(c)] == []
    for value in shown:
        assert "'" + value in cells


def test_matrix_exports(org, north_lead, hostile, no_staff_mfa) -> None:  # noqa: ANN001
    client = client_for(north_lead)
    url = f"/admin/training/matrix/?unit={org.north.pk}&export="
    assert_safe(csv_cells(client.get(url + "csv")), UNIT, COURSE)
    assert_safe(xlsx_values(client.get(url + "xlsx")), UNIT, COURSE)
    url = f"/admin/training/matrix/?unit={hostile.unit.pk}&export="
    assert_safe(csv_cells(client.get(url + "csv")), *NAMES, COURSE)
    assert_safe(xlsx_values(client.get(url + "xlsx")), *NAMES, COURSE)


def test_list_exports(north_lead, hostile, no_staff_mfa) -> None:  # noqa: ANN001
    client = client_for(north_lead)
    for export in ("csv", "xlsx"):
        cells = (csv_cells if export == "csv" else xlsx_values)(
            client.get(f"/admin/training/overdue/?export={export}")
        )
        assert_safe(cells, *NAMES[1:], COURSE)
        assert hostile.officers[1].email in cells  # the other columns are as they were
        cells = (csv_cells if export == "csv" else xlsx_values)(
            client.get(f"/admin/training/expiring/?days=400&export={export}")
        )
        assert_safe(cells, NAMES[0], COURSE)


def test_wagtail_site_history_export(administrator, hostile, no_staff_mfa) -> None:  # noqa: ANN001
    client = client_for(administrator)
    for export in ("csv", "xlsx"):
        response = client.get(f"/admin/reports/site-history/?export={export}")
        cells = csv_cells(response) if export == "csv" else xlsx_values(response)
        assert_safe(cells, COURSE)  # the course page's log entries are labelled with its title


def test_site_history_exports_a_chunk_at_a_time(
    org, administrator, no_staff_mfa, monkeypatch
) -> None:  # noqa: ANN001
    """The log is read from a cursor and decorated a chunk at a time (training.history), with
    the same rows, in the same order, whatever the chunk."""
    from wagtail.log_actions import log

    from training.history import SiteHistoryView

    for unit in (org.north, org.tayside, org.dundee, org.east, org.leith):
        log(instance=unit, action="wagtail.edit", user=administrator)
    client = client_for(administrator)
    whole = csv_cells(client.get("/admin/reports/site-history/?export=csv"))
    monkeypatch.setattr(SiteHistoryView, "EXPORT_CHUNK", 2)
    assert csv_cells(client.get("/admin/reports/site-history/?export=csv")) == whole
    labels = [f"Police Scotland / {path}" for path in ("East / Leith Response", "North")]
    assert all(label in whole for label in labels)
    assert all(
        label in xlsx_values(client.get("/admin/reports/site-history/?export=xlsx"))
        for label in labels
    )
