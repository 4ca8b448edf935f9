"""Reading ids that arrive as text: URL query strings and form fields.

`str.isdigit()` then `int()` is not enough: `isdigit` accepts other scripts' digits and
superscripts (`int("²")` raises), `int` refuses more than 4,300 digits, and a number past the
database's integer range fails in the query. Every id a person can type goes through here.
"""

from __future__ import annotations

# The largest value of a bigint column (BigAutoField, the project's primary keys). A smaller
# column (Wagtail's page ids) answers "no such row" for the values beyond its own range.
MAX_ID = 2**63 - 1

_MAX_DIGITS = len(str(MAX_ID))


def parse_id(text: str | None) -> int | None:
    """The id (or 0-based index) written in `text` in ASCII digits, or None if it is not one
    (anything else, empty, or beyond `MAX_ID`). Never raises."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        return None
    value = int(digits)
    return value if value <= MAX_ID else None
