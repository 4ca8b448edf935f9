"""Writes for certificates: issue exactly once, supersede, revoke, render the PDF."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from certificates.models import OFFICER_NAME_MAX, Certificate, NumberSeries
from certificates.rules import expiry_for, format_number, local_date
from certificates.signals import certificate_revoked
from certificates.tasks import render_certificate
from courses.assessment import assessment_passing_percent
from courses.models import CoursePage, Enrolment
from officers.models import OfficerProfile, User
from officers.selectors import officer_jurisdiction

REVOKE_ACTION = "pathways.certificate.revoke"
MAX_REASON = 1000


def certificate_numbers_reserve(*, year: int, count: int = 1) -> list[str]:
    """The next `count` serials for the year, under a row lock: unique and never reused."""
    with transaction.atomic():
        series = NumberSeries.objects.select_for_update().filter(year=year).first()
        if series is None:
            try:
                with transaction.atomic():
                    series = NumberSeries.objects.create(year=year, last=0)
            except IntegrityError:  # created by a parallel request
                series = NumberSeries.objects.select_for_update().get(year=year)
        first = series.last + 1
        series.last += count
        series.save(update_fields=["last"])
        return [format_number(year, serial) for serial in range(first, series.last + 1)]


def officer_name_of(user: User) -> str:
    """The name the certificate shows: the officer's full name, else their email address.

    The column holds the longest of either that the user model accepts; the cut is a backstop
    so that a name stored past its field's length (SQLite does not enforce one) cannot stop a
    certificate being issued."""
    return (user.get_full_name() or user.email)[:OFFICER_NAME_MAX]


def certificate_issue(*, enrolment: Enrolment, at: datetime | None = None) -> Certificate:
    """Issue the certificate for a completed enrolment, once; later calls return it."""
    existing = Certificate.objects.filter(enrolment=enrolment).first()
    if existing is not None:
        return existing
    at = at or enrolment.completed_at or timezone.now()
    course: CoursePage = CoursePage.objects.get(pk=enrolment.course_id)
    user: User = enrolment.user
    profile = OfficerProfile.objects.filter(user=user).select_related("force").first()
    certificate = Certificate(
        number=certificate_numbers_reserve(year=local_date(at).year)[0],
        code=secrets.token_urlsafe(15),
        user=user,
        course=course,
        enrolment=enrolment,
        course_revision_id=enrolment.completed_revision_id or course.live_revision_id,
        issued_at=at,
        expires_on=expiry_for(local_date(at), course.validity_months),
        refresher_window_days=course.refresher_window_days,
        officer_name=officer_name_of(user),
        service_number=profile.service_number if profile else "",
        force_name=profile.force.name if profile and profile.force else "",
        course_title=course.title,
        signatory_name=course.signatory_name,
        signatory_role=course.signatory_role,
        assessment_percent=assessment_passing_percent(enrolment=enrolment),
        # Whose content the officer completed: their force's jurisdiction at completion. A
        # later move never changes it.
        jurisdiction=officer_jurisdiction(user) or "",
    )
    try:
        with transaction.atomic():
            certificate.save()
    except IntegrityError:  # the same completion issued by a parallel request
        return Certificate.objects.get(enrolment=enrolment)
    Certificate.objects.superseded_by_issue_of(certificate).update(superseded_by=certificate)
    transaction.on_commit(lambda: certificate_request_pdf(certificate))
    return certificate


def certificate_revoke(*, certificate: Certificate, by: User, reason: str) -> Certificate:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for revoking this certificate."))
    if len(reason) > MAX_REASON:
        raise ValidationError(_("Keep the reason under %(n)s characters.") % {"n": MAX_REASON})
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.revoked_at is not None:
            raise ValidationError(_("This certificate has already been revoked."))
        locked.revoked_at = timezone.now()
        locked.revoked_by = by
        locked.revoke_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        # A neutral title: Wagtail's site history shows log entries to anyone who can see some
        # certificates, so the entry must not carry the officer's name or the reason. Both are
        # on the certificate itself, for those allowed to see it.
        log(
            instance=locked,
            action=REVOKE_ACTION,
            user=by,
            title=_("Certificate #%(pk)s") % {"pk": locked.pk},
            data={"reason": reason},
        )
        certificate_revoked.send(sender=Certificate, certificate=locked)
    return locked


def certificate_request_pdf(certificate: Certificate) -> None:
    """Queue the PDF for rendering by the task worker (at most once a minute)."""
    now = timezone.now()
    recently = now - timedelta(minutes=1)
    updated = (
        Certificate.objects.filter(pk=certificate.pk)
        .exclude(pdf_requested_at__gt=recently)
        .update(pdf_requested_at=now)
    )
    if updated:
        render_certificate.enqueue(certificate.pk)
