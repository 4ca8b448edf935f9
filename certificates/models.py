"""Certificates: issued once per completed enrolment, never changed, verifiable by anyone."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Revision

from certificates.rules import STATE_LABELS, State, refresher_from_for, state_of
from officers.links import absolute_url
from officers.models import User

# Refreshers are not chased for a certificate that expired longer ago than this.
REFRESHER_LOOKBACK_DAYS = 365


def _longest_officer_name() -> int:
    """The longest name a certificate records: "given family" (`get_full_name`), or the email
    address of someone with neither. Derived, so a longer name field needs a migration here."""
    length = User._meta.get_field
    full_name = length("first_name").max_length + 1 + length("last_name").max_length
    return max(full_name, length("email").max_length)


OFFICER_NAME_MAX = _longest_officer_name()


class NumberSeries(models.Model):
    """The last serial number used each year; incremented under a row lock, never reused."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("certificate number series")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class CertificateQuerySet(models.QuerySet):
    """The certificate rules of certificates/rules.py as filters: the one place that says
    which certificates are current, expiring or expired. `state_of` must agree with these."""

    def current(self) -> CertificateQuerySet:
        """Neither revoked nor replaced by a newer one: the officer's certificate of record."""
        return self.filter(superseded_by__isnull=True, revoked_at__isnull=True)

    def in_force(self, *, on: date) -> CertificateQuerySet:
        """Current and not expired on that day (valid, or valid and due for a refresher)."""
        return self.current().filter(Q(expires_on__isnull=True) | Q(expires_on__gte=on))

    def expiring(self, *, on: date) -> CertificateQuerySet:
        """Current and inside the course's refresher window on that day, not yet expired."""
        return self.current().filter(refresher_from__lte=on, expires_on__gte=on)

    def expired(self, *, on: date) -> CertificateQuerySet:
        """Current, but past its expiry date on that day."""
        return self.current().filter(expires_on__lt=on)

    def expiring_within(self, *, days: int, on: date) -> CertificateQuerySet:
        """Current and expiring in the next `days` days, whatever the refresher window: the
        lead's "expires within N days" filter, not the meaning of "expiring"."""
        return self.current().filter(expires_on__gte=on, expires_on__lte=on + timedelta(days=days))

    def refresher_due(self, *, on: date) -> CertificateQuerySet:
        """Current, in the refresher window or expired (within the last year): the officer
        should be doing the course again."""
        return self.current().filter(
            refresher_from__lte=on,
            expires_on__gte=on - timedelta(days=REFRESHER_LOOKBACK_DAYS),
        )

    def superseded_by_issue_of(self, certificate: Certificate) -> CertificateQuerySet:
        """The officer's earlier current certificates for the same course, which a newly
        issued one replaces."""
        return (
            self.current()
            .filter(
                user_id=certificate.user_id,
                course_id=certificate.course_id,
                issued_at__lte=certificate.issued_at,
            )
            .exclude(pk=certificate.pk)
        )


class Certificate(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    code = models.CharField(_("verification code"), max_length=32, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("officer"),
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("course"),
    )
    enrolment = models.OneToOneField(
        "courses.Enrolment",
        on_delete=models.PROTECT,
        related_name="certificate",
        verbose_name=_("completion"),
    )
    course_revision = models.ForeignKey(
        Revision, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    # expires_on less the refresher window: from this day the certificate is "expiring".
    refresher_from = models.DateField(null=True, blank=True, editable=False, db_index=True)
    refresher_window_days = models.PositiveIntegerField(_("refresher window (days)"), default=60)
    # Snapshot at issue: what the certificate says never changes afterwards.
    officer_name = models.CharField(_("officer's name"), max_length=OFFICER_NAME_MAX)
    service_number = models.CharField(_("service number"), max_length=32, blank=True)
    force_name = models.CharField(_("force"), max_length=120, blank=True)
    course_title = models.CharField(_("course title"), max_length=255)
    # The jurisdiction whose content the officer completed (their force's, at completion).
    jurisdiction = models.CharField(_("jurisdiction"), max_length=16, blank=True)
    signatory_name = models.CharField(_("signatory"), max_length=200, blank=True)
    signatory_role = models.CharField(_("signatory's role"), max_length=200, blank=True)
    # The officer's score in the final assessment that completed the course (None: the course
    # had no final assessment).
    assessment_percent = models.PositiveSmallIntegerField(
        _("final assessment (%)"), null=True, blank=True
    )

    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)

    pdf = models.FileField(_("PDF"), upload_to="certificates/%Y/", blank=True)
    pdf_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at"]
        indexes = [
            models.Index(fields=["user", "course", "-issued_at"]),
            # The matrix reads the certificates whose expiry passed since its tally's date.
            models.Index(fields=["expires_on"], name="certificates_expires_on"),
        ]
        permissions = [("revoke_certificate", _("Can revoke a certificate"))]

    def __str__(self) -> str:
        return f"{self.number} · {self.officer_name} · {self.course_title}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.refresher_from = refresher_from_for(self.expires_on, self.refresher_window_days)
        super().save(*args, **kwargs)

    @property
    def issued_on(self) -> date:
        return timezone.localtime(self.issued_at).date()

    def state(self, today: date | None = None) -> State:
        return state_of(
            today=today or timezone.localdate(),
            expires_on=self.expires_on,
            refresher_window_days=self.refresher_window_days,
            revoked=self.revoked_at is not None,
            superseded=self.superseded_by_id is not None,
        )

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state()]

    def verify_path(self) -> str:
        return reverse("certificates:verify", args=[self.code])

    def verify_url(self) -> str:
        return absolute_url(self.verify_path())
