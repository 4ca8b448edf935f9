"""CertificateQuerySet is certificates/rules.py written as filters: for any dates, window and
flags, a certificate is in `expiring(on=)` exactly when `state_of` says "expiring", and so on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certificates.models import Certificate
from certificates.rules import State
from certificates.services import certificate_issue
from courses.models import Enrolment
from tests.factories import make_course

TODAY = date(2027, 6, 15)


@pytest.fixture
def pair(learner, home):  # noqa: ANN001, ANN201
    """Two certificates of one officer for one course: the first may be superseded by the
    second."""
    course = make_course(home, title="Queryset", modules=1, lessons=1, validity_months=12)
    issued = []
    for days_ago in (400, 10):
        at = timezone.now() - timedelta(days=days_ago)
        enrolment = Enrolment.objects.create(user=learner, course=course, completed_at=at)
        issued.append(certificate_issue(enrolment=enrolment, at=at))
    return issued


def _memberships(pk: int, today: date) -> dict[str, bool]:
    certificates = Certificate.objects.filter(pk=pk)
    return {
        "current": certificates.current().exists(),
        "in_force": certificates.in_force(on=today).exists(),
        "expiring": certificates.expiring(on=today).exists(),
        "expired": certificates.expired(on=today).exists(),
    }


EXPECTED = {
    State.VALID: {"current": True, "in_force": True, "expiring": False, "expired": False},
    State.EXPIRING: {"current": True, "in_force": True, "expiring": True, "expired": False},
    State.EXPIRED: {"current": True, "in_force": False, "expiring": False, "expired": True},
    State.REVOKED: {"current": False, "in_force": False, "expiring": False, "expired": False},
    State.SUPERSEDED: {"current": False, "in_force": False, "expiring": False, "expired": False},
}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    expires_in=st.one_of(st.none(), st.integers(min_value=-800, max_value=800)),
    window=st.integers(min_value=0, max_value=400),
    revoked=st.booleans(),
    superseded=st.booleans(),
)
def test_queryset_agrees_with_state_of(pair, expires_in, window, revoked, superseded) -> None:  # noqa: ANN001
    first, second = pair
    certificate = Certificate.objects.get(pk=first.pk)
    certificate.expires_on = None if expires_in is None else TODAY + timedelta(days=expires_in)
    certificate.refresher_window_days = window
    certificate.revoked_at = timezone.now() if revoked else None
    certificate.superseded_by = second if superseded else None
    certificate.save()

    assert _memberships(certificate.pk, TODAY) == EXPECTED[certificate.state(TODAY)]


def test_expiring_within_is_the_leads_filter_not_the_refresher_window(pair) -> None:  # noqa: ANN001
    _, certificate = pair
    certificate.expires_on = TODAY + timedelta(days=90)
    certificate.refresher_window_days = 60
    certificate.save()
    assert certificate.state(TODAY) == State.VALID
    assert not Certificate.objects.expiring(on=TODAY).filter(pk=certificate.pk).exists()
    within = Certificate.objects.expiring_within
    assert within(days=90, on=TODAY).filter(pk=certificate.pk).exists()
    assert not within(days=89, on=TODAY).filter(pk=certificate.pk).exists()


def test_a_new_certificate_supersedes_the_earlier_current_one(pair) -> None:  # noqa: ANN001
    first, second = pair
    first.refresh_from_db()
    assert first.superseded_by == second and second.superseded_by is None
    assert list(Certificate.objects.current()) == [second]
