"""Certificate rules without a database: expiry, states, numbers."""

from __future__ import annotations

from datetime import date

import pytest

from certificates.rules import State, add_months, expiry_for, format_number, state_of


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 21), 12, date(2027, 11, 21)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 31), 36, date(2029, 3, 31)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_expiry_for_never() -> None:
    assert expiry_for(date(2026, 1, 1), None) is None


def state(today: date, expires: date | None, **flags: bool) -> State:
    return state_of(
        today=today,
        expires_on=expires,
        refresher_window_days=60,
        revoked=flags.get("revoked", False),
        superseded=flags.get("superseded", False),
    )


def test_states() -> None:
    expires = date(2027, 6, 30)
    assert state(date(2027, 4, 30), expires) == State.VALID
    assert state(date(2027, 5, 1), expires) == State.EXPIRING  # 60 days before
    assert state(date(2027, 6, 30), expires) == State.EXPIRING  # last valid day
    assert state(date(2027, 7, 1), expires) == State.EXPIRED
    assert state(date(2030, 1, 1), None) == State.VALID
    assert state(date(2027, 4, 1), expires, superseded=True) == State.SUPERSEDED
    assert state(date(2027, 4, 1), expires, superseded=True, revoked=True) == State.REVOKED
    assert state(date(2028, 1, 1), expires, revoked=True) == State.REVOKED


def test_number_format() -> None:
    assert format_number(2026, 4213) == "PW-2026-004213"
    assert format_number(2027, 1_234_567) == "PW-2027-1234567"
