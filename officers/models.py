"""Accounts and organisation: users (email login), officer profiles, units, invitations."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node

from officers.jurisdictions import Jurisdiction


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in with their email address.

    Names stay on the user (as `first_name`/`last_name`, labelled given and family name)
    because Wagtail's user admin and allauth already read and edit them there.
    """

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    first_name = models.CharField(_("given name"), max_length=150, blank=True)
    last_name = models.CharField(_("family name"), max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="officers_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args: object, **kwargs: object) -> None:
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


class Unit(MP_Node):
    """A node of the organisation: force > division > team, plus recruit intakes."""

    class Kind(models.TextChoices):
        FORCE = "force", _("Force")
        DIVISION = "division", _("Division")
        TEAM = "team", _("Team")
        INTAKE = "intake", _("Recruit intake")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.TEAM)
    # Set on a force; every unit below follows its force (`jurisdiction_of`).
    jurisdiction = models.CharField(
        _("jurisdiction"),
        max_length=16,
        choices=Jurisdiction.choices,
        blank=True,
        help_text=_(
            "Whose law and schemes apply to the force's officers. Set it on the force: every "
            "unit below follows."
        ),
    )

    # No node_order_by: sorted insertion would rewrite the paths of existing units.

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        """The path from the force down, e.g. 'Police Scotland / North / Tayside'."""
        names = [a.name for a in self.get_ancestors()] + [self.name]
        return " / ".join(names)

    def get_force(self) -> Unit:
        return self if self.is_root() else self.get_root()

    def subtree(self) -> models.QuerySet[Unit]:
        """This unit and every unit below it, as one indexed prefix query."""
        return Unit.objects.filter(path__startswith=self.path)


class Role(models.TextChoices):
    """Roles are Django groups with these names; see officers.roles."""

    LEARNER = "learner", _("Learner")
    TRAINING_LEAD = "training_lead", _("Training lead")
    AUTHOR = "author", _("Author")
    ADMINISTRATOR = "administrator", _("Administrator")


class OfficerProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="officer",
        verbose_name=_("user"),
    )
    service_number = models.CharField(
        _("service number"),
        max_length=32,
        blank=True,
        help_text=_("Unique within the force. Leave blank for staff without one."),
    )
    force = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="force_officers",
        limit_choices_to={"depth": 1},
        null=True,
        blank=True,
        verbose_name=_("force"),
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="officers",
        null=True,
        blank=True,
        verbose_name=_("unit"),
        help_text=_("The team, division or recruit intake the officer belongs to."),
    )
    rank = models.CharField(_("rank"), max_length=64, blank=True)
    led_units = models.ManyToManyField(
        Unit,
        related_name="leads",
        blank=True,
        verbose_name=_("units led"),
        help_text=_("A training lead sees these units and everything under them."),
    )

    class Meta:
        verbose_name = _("officer profile")
        verbose_name_plural = _("officer profiles")
        permissions = [("import_officers", _("Can import officers from a CSV file"))]
        constraints = [
            models.UniqueConstraint(
                fields=["force", "service_number"],
                condition=~models.Q(service_number=""),
                name="officers_unique_service_number_per_force",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.service_number})" if self.service_number else str(self.user)

    @property
    def email(self) -> str:
        return self.user.email


class Invitation(models.Model):
    """An address allowed to sign up although its domain is not on the allowed list."""

    email = models.EmailField(_("email address"), unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email

    def save(self, *args: object, **kwargs: object) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class OutgoingEmail(models.Model):
    """An email waiting to be sent, being sent, sent or given up on: the outbox.

    Every email is recorded here first (officers.outbox.email_queue) and sent by a background
    task, so a request never waits for the mail server and a refused address or an outage
    costs one message, never a whole run. `key` names the logical email ("reminder:overdue:
    assignment:42"): set, it is unique, so concurrent callers queue it once.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    to = models.EmailField(_("recipient"))
    from_email = models.CharField(
        _("from"), max_length=254, blank=True, help_text=_("Blank: DEFAULT_FROM_EMAIL.")
    )
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"), blank=True)
    html_body = models.TextField(_("HTML body"), blank=True)
    key = models.CharField(_("key"), max_length=200, blank=True, default="")
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_("The body holds a sign-in link or code: erased once sent or failed."),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Queued: not before this. Sending: the claim's lease runs out at this time.
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=~models.Q(key=""), name="officers_outgoingemail_key"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="officers_outbox_due"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"


class OfficerImport(models.Model):
    """An HR file being imported: uploaded, previewed in the background, confirmed by the
    person who uploaded it, then applied in the background (officers.import_jobs).

    The file is kept only until the import ends: it is personal data, and the result page
    needs only the counts."""

    class Status(models.TextChoices):
        PREVIEWING = "previewing", _("Preparing the preview")
        READY = "ready", _("Ready to confirm")
        REJECTED = "rejected", _("Problems found")
        APPLYING = "applying", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Not imported")
        CANCELLED = "cancelled", _("Cancelled")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    filename = models.CharField(_("file name"), max_length=255)
    data = models.BinaryField(_("file"), blank=True, default=b"", editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PREVIEWING
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    # What the preview found: counts, the first changes of each kind, and the fingerprint that
    # the apply must find again (officers.imports.ImportPlan).
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    errors = models.JSONField(_("problems"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("number of problems"), default=0)
    deactivate_leavers = models.BooleanField(_("deactivate leavers"), default=False)
    result = models.JSONField(_("result"), default=dict, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("officer import")
        verbose_name_plural = _("officer imports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="officers_import_mine")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"
