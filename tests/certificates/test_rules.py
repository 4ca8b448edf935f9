"""Certificate rules without a database: expiry, states, numbers, supersession (checked once
against its queryset filter, in the database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from certificates.models import Certificate
from certificates.rules import (
    HeldCertificate,
    State,
    add_months,
    expiry_for,
    format_number,
    state_of,
    superseded_by_issue,
)
from courses.models import Enrolment
from tests.factories import make_course, make_officer


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


def test_superseded_by_issue() -> None:
    at = timezone.now()
    held = [
        HeldCertificate(at - timedelta(days=400), revoked=False, superseded=False),
        HeldCertificate(at - timedelta(days=300), revoked=True, superseded=False),
        HeldCertificate(at - timedelta(days=200), revoked=False, superseded=True),
        HeldCertificate(at, revoked=False, superseded=False),
        HeldCertificate(at + timedelta(seconds=1), revoked=False, superseded=False),
    ]
    assert superseded_by_issue(at, held) == [0, 3]
    assert superseded_by_issue(at, []) == []


@pytest.mark.django_db
def test_superseded_by_issue_agrees_with_the_queryset(home, learner, course, org) -> None:  # noqa: ANN001
    """Each certificate in turn taken as the newly issued one: the plain rule picks, from the
    officer's other certificates for the course, those `superseded_by_issue_of` filters."""
    other_course = make_course(home, title="Other course")
    colleague = make_officer(unit=org.dundee)
    now = timezone.now()

    def held(user, on, days: int, **fields) -> Certificate:  # noqa: ANN001, ANN003
        at = now + timedelta(days=days)
        enrolment = Enrolment.objects.create(user=user, course=on, started_at=at, completed_at=at)
        return Certificate.objects.create(
            number=f"PW-TEST-{Certificate.objects.count():06d}",
            code=f"code-{Certificate.objects.count()}",
            user=user,
            course=on,
            enrolment=enrolment,
            issued_at=at,
            officer_name="Test Officer",
            course_title=on.title,
            **fields,
        )

    first = held(learner, course, -900)
    revoked = held(learner, course, -700, revoked_at=now)
    replaced = held(learner, course, -600, superseded_by=first)
    current = held(learner, course, -400)
    same_moment = held(learner, course, -400)
    later = held(learner, course, -100)
    held(learner, other_course, -500)
    held(colleague, course, -500)
    mine = [first, revoked, replaced, current, same_moment, later]

    for new in mine:
        others = [c for c in mine if c.pk != new.pk]
        facts = [
            HeldCertificate(c.issued_at, c.revoked_at is not None, c.superseded_by_id is not None)
            for c in others
        ]
        expected = set(Certificate.objects.superseded_by_issue_of(new).values_list("pk", flat=True))
        assert {others[i].pk for i in superseded_by_issue(new.issued_at, facts)} == expected
    # The cases above are not vacuous: some are replaced, some not.
    assert set(Certificate.objects.superseded_by_issue_of(later).values_list("pk", flat=True)) == {
        first.pk,
        current.pk,
        same_moment.pk,
    }
