"""Certificate rules as plain functions: states, expiry, numbers. No database.

`CertificateQuerySet` (certificates/models.py) is the same rules written as filters; a test
checks that the two agree.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from django.utils import timezone


class State(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


STATE_LABELS = {
    State.VALID: "Valid",
    State.EXPIRING: "Valid, due for a refresher",
    State.EXPIRED: "Expired",
    State.SUPERSEDED: "Replaced by a newer certificate",
    State.REVOKED: "Revoked",
}


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day (31 Jan + 1 month = 28/29 Feb).

    Clamped to the calendar (1 January 1 to 31 December 9999) rather than raising: a course
    row may hold any validity, and a completion must not fail on it."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_for(issued_on: date, validity_months: int | None) -> date | None:
    """The last day a certificate is valid; None when it never expires."""
    if validity_months is None:
        return None
    return add_months(issued_on, validity_months)


def refresher_from_for(expires_on: date | None, refresher_window_days: int) -> date | None:
    """The first day of the refresher window: from then until expiry a certificate is
    "expiring" (the one meaning of the word, used by the matrix, lists and reminders)."""
    if expires_on is None:
        return None
    try:
        return expires_on - timedelta(days=refresher_window_days)
    except OverflowError:  # a window reaching past the calendar (a course row may hold any)
        return date.min if refresher_window_days > 0 else date.max


def state_of(
    *,
    today: date,
    expires_on: date | None,
    refresher_window_days: int,
    revoked: bool,
    superseded: bool,
) -> State:
    """Revoked and superseded win over dates; then expired, expiring (inside the refresher
    window before expiry), valid."""
    if revoked:
        return State.REVOKED
    if superseded:
        return State.SUPERSEDED
    if expires_on is None:
        return State.VALID
    if today > expires_on:
        return State.EXPIRED
    refresher_from = refresher_from_for(expires_on, refresher_window_days)
    if refresher_from is not None and today >= refresher_from:
        return State.EXPIRING
    return State.VALID


def format_number(year: int, serial: int) -> str:
    """A number readable over the phone, e.g. PW-2026-004213."""
    return f"PW-{year}-{serial:06d}"


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


class HeldCertificate(NamedTuple):
    """What the supersession rule needs of a certificate an officer already holds."""

    issued_at: datetime
    revoked: bool
    superseded: bool


def superseded_by_issue(issued_at: datetime, held: Sequence[HeldCertificate]) -> list[int]:
    """Which of the officer's other certificates for the same course a certificate issued at
    `issued_at` replaces, as positions in `held`: those still current (neither revoked nor
    already superseded) and issued at or before it. `CertificateQuerySet.superseded_by_issue_of`
    is the same rule as a filter."""
    return [
        position
        for position, other in enumerate(held)
        if not other.revoked and not other.superseded and other.issued_at <= issued_at
    ]
