"""Demo certificates in every state (valid, expiring, expired, superseded, revoked).

Each demo officer's history is created once; running it again changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from certificates.models import Certificate
from certificates.services import certificate_issue, certificate_revoke
from courses.models import CoursePage, Enrolment
from officers.models import User

DOMAIN = "demo.police.uk"
DAY = timedelta(days=1)


def _complete(user: User, course: CoursePage, days_ago: int) -> Certificate:
    at = timezone.now() - days_ago * DAY
    enrolment = Enrolment.objects.create(
        user=user,
        course=course,
        started_at=at - 7 * DAY,
        completed_at=at,
        completed_revision_id=course.live_revision_id,
    )
    return certificate_issue(enrolment=enrolment, at=at)


@transaction.atomic
def seed_demo_certificates(*, main: CoursePage, refresher: CoursePage) -> int:
    """History for a few demo officers; returns the number of certificates created."""
    admin = User.objects.get(email=f"admin@{DOMAIN}")
    plans = {
        # valid (main course) and expiring (12-month refresher done 11 months ago)
        f"officer@{DOMAIN}": [(main, 120), (refresher, 335)],
        # expired: refresher done 14 months ago and not renewed
        f"ewan.campbell@{DOMAIN}": [(refresher, 425)],
        # superseded: refresher done 13 months ago, then again last month
        f"kirsty.stewart@{DOMAIN}": [(refresher, 395), (refresher, 30)],
        # revoked below
        f"jamie.robertson@{DOMAIN}": [(main, 60)],
        # valid, recently
        f"priya.thomson@{DOMAIN}": [(main, 10), (refresher, 12)],
    }
    created = 0
    for email, history in plans.items():
        user = User.objects.filter(email=email).first()
        if user is None or Certificate.objects.filter(user=user).exists():
            continue
        for course, days_ago in history:
            certificate = _complete(user, course, days_ago)
            created += 1
        if email.startswith("jamie."):
            certificate_revoke(
                certificate=certificate,
                by=admin,
                reason="Completed on another officer's account; to be redone in person.",
            )
    return created
