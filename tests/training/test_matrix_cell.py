"""The matrix's cell, rendered in Python (training.templatetags.training_matrix)."""

from __future__ import annotations

from training.matrix import Cell
from training.templatetags.training_matrix import matrix_cell


def test_a_cell_says_in_words_what_its_colour_says() -> None:
    good = str(matrix_cell(Cell(total=10, complete=9, in_progress=1)))
    assert "90% · Good" in good and "#d8f0df" in good and "matrix-cell--good" in good
    assert "9 complete, 1 in progress, 0 not started, 0 overdue" in good
    fair = str(matrix_cell(Cell(total=10, complete=9, overdue=1)))
    assert "90% · Fair" in fair and "#fff1c7" in fair
    poor = str(matrix_cell(Cell(total=3, complete=1, not_started=2, expiring=2)))
    assert "33% · Poor" in poor and "#fbdcdc" in poor and "<span>2 expiring</span>" in poor


def test_an_officers_cell_shows_lessons_and_a_missing_jurisdiction() -> None:
    html = str(
        matrix_cell(
            Cell(total=1, in_progress=1, lessons_done=1, lessons_total=3, jurisdiction_unknown=True)
        )
    )
    assert "<span>1 of 3 lessons done</span>" in html
    assert "<strong>Jurisdiction not set: cannot complete</strong>" in html


def test_empty_cells() -> None:
    assert str(matrix_cell(None)) == '<td><span class="w-sr-only">Not assigned</span>–</td>'
    assert str(matrix_cell(Cell())) == '<td><span class="w-sr-only">Not assigned</span>–</td>'
    assert str(matrix_cell(Cell(expiring=4))) == "<td><span>4 expiring</span></td>"
