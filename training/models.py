"""What training leads ask for and what Pathways did about it: assignment rules, assignments,
reminders, the export log and the export files written in the background."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import CoursePage
from courses.rules import ALL_JURISDICTIONS


class AssignmentRule(models.Model):
    """What a training lead asked for: a course, for a unit, intake or named officers, by a
    date. Officers who join the unit later are assigned by the same rule."""

    course = models.ForeignKey(
        CoursePage,
        on_delete=models.CASCADE,
        related_name="assignment_rules",
        verbose_name=_("course"),
    )
    unit = models.ForeignKey(
        "officers.Unit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assignment_rules",
        verbose_name=_("unit or intake"),
        help_text=_("Everyone in this unit and the units under it, now and later."),
    )
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("named officers")
    )
    due_date = models.DateField(_("due on"), null=True, blank=True)
    due_days = models.PositiveIntegerField(
        _("due after (days)"),
        null=True,
        blank=True,
        help_text=_("Days after the officer is assigned (for officers who join later, too)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("assignment rule")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        target = self.unit.full_name if self.unit_id else _("named officers")
        return f"{self.course} → {target}"


# The officer's unit as it is now. Who may see an assignment, and where the matrix counts it,
# follow the current unit tree through this path, never a path stored when it was assigned.
OFFICER_UNIT_PATH = "user__officer__unit__path"


def applying_q(*, course: str, force: str) -> Q:
    """`courses.rules.course_withheld` negated, as a filter on rows that reach a course and an
    officer's force through the lookups `course` and `force`: the course is for every
    jurisdiction, or the force's, or the officer's jurisdiction is unknown (no force, or a
    force without one). One rule for assignments and for the tally."""
    return (
        Q(**{f"{course}__jurisdiction__in": [ALL_JURISDICTIONS, ""]})
        | Q(**{f"{force}__isnull": True})
        | Q(**{f"{force}__jurisdiction": ""})
        | Q(**{f"{course}__jurisdiction": F(f"{force}__jurisdiction")})
    )


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def applying(self) -> AssignmentQuerySet:
        """Leave out assignments of a course limited to another jurisdiction than the
        officer's force's (`courses.rules.course_withheld` as a filter; a test checks that the
        two agree). They stay in the database: an officer who moves back is counted again. An
        officer whose jurisdiction is unknown keeps them, to be seen as not done."""
        return self.filter(applying_q(course="course", force="user__officer__force"))


class Assignment(models.Model):
    """One officer asked to do one course by a date. `current` marks the latest per officer and
    course, which is what the matrix, lists and reminders count."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        REFRESHER = "refresher", _("Refresher")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    course = models.ForeignKey(CoursePage, on_delete=models.CASCADE, related_name="assignments")
    rule = models.ForeignKey(
        AssignmentRule, on_delete=models.CASCADE, null=True, blank=True, related_name="assignments"
    )
    source_certificate = models.ForeignKey(
        "certificates.Certificate",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="refresher_assignments",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ASSIGNED)
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    due_on = models.DateField(_("due on"))
    # Kept in step by training.assignments so that the matrix is one grouped query.
    unit_path = models.CharField(max_length=255, blank=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    current = models.BooleanField(default=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        ordering = ["due_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "rule"],
                condition=models.Q(rule__isnull=False),
                name="training_assigned_once_per_rule",
            ),
            models.UniqueConstraint(
                fields=["user", "source_certificate"],
                condition=models.Q(source_certificate__isnull=False),
                name="training_one_refresher_per_certificate",
            ),
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=models.Q(current=True),
                name="training_one_current_assignment",
            ),
        ]
        indexes = [
            models.Index(fields=["current", "course", "unit_path"]),
            models.Index(fields=["current", "due_on"]),
            models.Index(fields=["user", "course"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.course} · {self.due_on}"


class AssignmentTally(models.Model):
    """The completion matrix's counts kept ready: per officer's unit, officer's force and
    course, how many current assignments are complete, overdue, in progress and not started,
    and how many current certificates are expiring, "as of" the day in `AssignmentTallyDate`.

    Written only by database triggers (migration 0005) on assignments, certificates and
    officer profiles, so that every write (save, bulk_create, update, COPY, raw SQL, cascades)
    keeps it exact; never write it from Python except through `training.tally`. Only officers
    with a profile and a unit are counted. What may change without touching these tables (unit
    paths, jurisdictions, whether a course is live) is joined when it is read, and so is never
    stale. Unit, force and course are plain columns (no constraint, nothing cascades): a row of a
    deleted unit or course holds zeros and is never read."""

    unit = models.ForeignKey(
        "officers.Unit",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the key's unique index starts with it
        related_name="+",
        verbose_name=_("unit"),
    )
    force = models.ForeignKey(
        "officers.Unit",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
        verbose_name=_("force"),
    )
    course = models.ForeignKey(
        CoursePage,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("course"),
    )
    complete = models.IntegerField(_("complete"), default=0)
    overdue = models.IntegerField(_("overdue"), default=0)
    in_progress = models.IntegerField(_("in progress"), default=0)
    not_started = models.IntegerField(_("not started"), default=0)
    expiring = models.IntegerField(_("expiring"), default=0)

    class Meta:
        verbose_name = _("assignment tally")
        constraints = [
            # The key of the triggers' upserts (ON CONFLICT): an officer without a force is
            # force 0, so that NULL is one key.
            models.UniqueConstraint(
                F("unit"), F("course"), Coalesce(F("force"), Value(0)), name="training_tally_key"
            ),
        ]

    def __str__(self) -> str:
        return f"unit {self.unit_id} · force {self.force_id} · course {self.course_id}"


class AssignmentTallyDate(models.Model):
    """The day the tally's date-dependent counts are "as of" (one row, id 1): an open
    assignment due before it counts as overdue, a certificate is expiring on it. The triggers
    read it; `training.tally.tally_roll` moves it (and the counts) forward; a read for another
    day corrects for the days between."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    as_of = models.DateField(_("as of"))

    class Meta:
        verbose_name = _("assignment tally date")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="training_tally_date_one")]

    def __str__(self) -> str:
        return f"tally as of {self.as_of}"


class Reminder(models.Model):
    """An email reminder, recorded before it is sent: at most one per officer, assignment
    (or certificate) and kind, however often or concurrently send_reminders runs."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("Course assigned")
        DUE_SOON = "due_soon", _("Due in 7 days")
        OVERDUE = "overdue", _("Overdue")
        EXPIRING = "expiring", _("Certificate expiring")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    certificate = models.ForeignKey(
        "certificates.Certificate",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    subject = models.CharField(max_length=255)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    # The email in the outbox, queued in the same transaction as this row. Empty for reminders
    # from before the outbox, which were sent in that transaction.
    outgoing_email = models.ForeignKey(
        "officers.OutgoingEmail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("email"),
    )

    class Meta:
        verbose_name = _("reminder")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "kind"],
                condition=models.Q(assignment__isnull=False),
                name="training_reminder_once_per_assignment",
            ),
            models.UniqueConstraint(
                fields=["certificate", "kind"],
                condition=models.Q(certificate__isnull=False),
                name="training_reminder_once_per_certificate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.user}"

    def delivery_status(self) -> str:
        """Queued, sending, sent or failed: its email's status."""
        if self.outgoing_email is None:
            return str(_("Sent"))
        return self.outgoing_email.get_status_display()

    def delivery_error(self) -> str:
        """Why the last attempt to send it failed, if it did."""
        return self.outgoing_email.last_error if self.outgoing_email else ""


class ExportLog(models.Model):
    """Who exported what, when."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    what = models.CharField(max_length=100)
    format = models.CharField(max_length=8)
    filters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("export")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.what}.{self.format} by {self.user} at {self.created_at:%Y-%m-%d %H:%M}"


class ExportFile(models.Model):
    """A spreadsheet too large to write inside a request: asked for by one person, written by
    a background task (training.tasks.build_export_file) to default storage under a random
    name, and downloaded only by that person, through Pathways, until it expires."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    token = models.UUIDField(_("token"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("asked by"),
    )
    what = models.CharField(_("list"), max_length=100)
    format = models.CharField(_("format"), max_length=8, default="xlsx")
    # The list's query string (filters, sort, unit) as {name: [values]}: the task rebuilds the
    # list from it, for the same person, with their units as they are when it runs.
    params = models.JSONField(_("filters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True, max_length=255)
    filename = models.CharField(_("file name"), max_length=120)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("export file")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="training_export_file_mine")]

    def __str__(self) -> str:
        return f"{self.what}.{self.format} for {self.user} ({self.status})"

    @property
    def is_open(self) -> bool:
        """Still to be written (queued, or being written now)."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
