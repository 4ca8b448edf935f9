"""The completion matrix's cells, rendered in Python: a team page shows a thousand of them (100
officers by 10 courses), and an `{% include %}` per cell cost about a millisecond each, most of
it looking up the same few translations again."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from training.matrix import Cell

register = template.Library()

BACKGROUNDS = {"good": "#d8f0df", "fair": "#fff1c7", "poor": "#fbdcdc"}

# The cell's words, translated once per language (the catalogues do not change while running).
_texts_by_language: dict[str | None, dict[str, str]] = {}


def _texts() -> dict[str, str]:
    language = get_language()
    texts = _texts_by_language.get(language)
    if texts is None:
        texts = _texts_by_language[language] = {
            "good": _("Good"),
            "fair": _("Fair"),
            "poor": _("Poor"),
            "counts": _("%(c)s complete, %(p)s in progress, %(n)s not started, %(o)s overdue"),
            "expiring": _("%(e)s expiring"),
            "lessons": _("%(d)s of %(t)s lessons done"),
            "unknown": _("Jurisdiction not set: cannot complete"),
            "not_assigned": _("Not assigned"),
        }
    return texts


@register.simple_tag
def matrix_cell(cell: Cell | None) -> SafeString:
    """One `<td>`: percent complete and its word (colour repeats the word), the counts, the
    certificates expiring and, on an officer's row, lessons done; "–" where nothing is
    assigned."""
    texts = _texts()
    if cell is None or not cell.total:
        if cell is not None and cell.expiring:
            return format_html("<td><span>{}</span></td>", texts["expiring"] % {"e": cell.expiring})
        return format_html('<td><span class="w-sr-only">{}</span>–</td>', texts["not_assigned"])
    counts = {"c": cell.complete, "p": cell.in_progress, "n": cell.not_started, "o": cell.overdue}
    lines: list[tuple[str, str]] = [("span", texts["counts"] % counts)]
    if cell.expiring:
        lines.append(("span", texts["expiring"] % {"e": cell.expiring}))
    if cell.lessons_total is not None:
        done = {"d": cell.lessons_done, "t": cell.lessons_total}
        lines.append(("span", texts["lessons"] % done))
    if cell.jurisdiction_unknown:
        lines.append(("strong", texts["unknown"]))
    tone = cell.tone if cell.tone in BACKGROUNDS else "poor"
    return format_html(
        '<td class="matrix-cell matrix-cell--{}" style="background:{}">'
        "<strong>{}% · {}</strong>{}</td>",
        tone,
        BACKGROUNDS[tone],
        cell.percent,
        texts[tone],
        format_html_join("", "<br><{0}>{1}</{0}>", lines),
    )
