"""Certificates: issued once per completed enrolment, never changed, verifiable by anyone."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Revision

from certificates.rules import State, state_of


class NumberSeries(models.Model):
    """The last serial number used each year; incremented under a row lock, never reused."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("certificate number series")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


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
    officer_name = models.CharField(_("officer's name"), max_length=300)
    service_number = models.CharField(_("service number"), max_length=32, blank=True)
    force_name = models.CharField(_("force"), max_length=120, blank=True)
    course_title = models.CharField(_("course title"), max_length=255)
    signatory_name = models.CharField(_("signatory"), max_length=200, blank=True)
    signatory_role = models.CharField(_("signatory's role"), max_length=200, blank=True)

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

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["user", "course", "-issued_at"])]
        permissions = [("revoke_certificate", _("Can revoke a certificate"))]

    def __str__(self) -> str:
        return f"{self.number} · {self.officer_name} · {self.course_title}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.expires_on is not None:
            self.refresher_from = self.expires_on - timedelta(days=self.refresher_window_days)
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
        from certificates.rules import STATE_LABELS

        return STATE_LABELS[self.state()]

    def verify_path(self) -> str:
        from django.urls import reverse

        return reverse("certificates:verify", args=[self.code])

    def verify_url(self) -> str:
        return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + self.verify_path()
