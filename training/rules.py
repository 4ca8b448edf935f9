"""Training rules as plain functions: when an assignment is due and when a certificate calls
for a refresher. No database.

`training.assignments` applies them to rows; `CertificateQuerySet.refresher_due`
(certificates/models.py) is `refresher_due` written as a filter.
"""

from __future__ import annotations

from datetime import date, timedelta

from certificates.rules import State, state_of

# An officer placed in a unit after its rule's fixed date has passed gets this long.
JOINER_GRACE_DAYS = 28


def assignment_due_on(*, due_date: date | None, due_days: int | None, assigned_on: date) -> date:
    """A fixed due date, or so many days after the officer was assigned. Nobody is overdue on
    the day they are assigned: an officer who joins after a fixed date has passed gets
    JOINER_GRACE_DAYS from the day they joined."""
    if due_date is not None:
        if due_date < assigned_on:
            return assigned_on + timedelta(days=JOINER_GRACE_DAYS)
        return due_date
    return assigned_on + timedelta(days=due_days or 0)


def assignment_merged_due_on(current: date, offered: date) -> date:
    """Two rules ask one officer for the same course: the earliest due date stands."""
    return min(current, offered)


def refresher_due(
    *,
    on: date,
    expires_on: date | None,
    refresher_window_days: int,
    revoked: bool,
    superseded: bool,
    lookback_days: int,
) -> bool:
    """Whether a certificate calls for the course again on that day: it is expiring (inside its
    refresher window), or expired no more than `lookback_days` ago (pass
    `certificates.models.REFRESHER_LOOKBACK_DAYS`). Revoked and superseded ones never do."""
    state = state_of(
        today=on,
        expires_on=expires_on,
        refresher_window_days=refresher_window_days,
        revoked=revoked,
        superseded=superseded,
    )
    if state is State.EXPIRING:
        return True
    return (
        state is State.EXPIRED
        and expires_on is not None
        and expires_on >= on - timedelta(days=lookback_days)
    )


def refresher_due_on(expires_on: date) -> date:
    """A refresher assignment is due on the day the certificate it renews expires."""
    return expires_on


# A completion in under this share of the lesson's estimated reading time is flagged for the
# lead to look at (a flag, never a block: some officers read fast or know the subject).
FAST_SHARE = 0.25


def completion_too_fast(*, seconds: int | None, estimate_minutes: int) -> bool:
    """Completed in under FAST_SHARE of the estimate (unknown time is never flagged)."""
    return seconds is not None and seconds < estimate_minutes * 60 * FAST_SHARE
