"""Scenarios (Wagtail snippets with drafts and revisions) and officers' attempts at them."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.fields import StreamField
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    PreviewableMixin,
    Revision,
    RevisionMixin,
)
from wagtail.search import index

from officers.jurisdictions import JurisdictionsField
from scenarios import engine
from scenarios.blocks import StepBlock
from scenarios.diagram import scenario_map
from scenarios.mapping import scenario_from_values


class Scenario(
    PreviewableMixin, DraftStateMixin, LockableMixin, RevisionMixin, index.Indexed, models.Model
):
    title = models.CharField(_("title"), max_length=engine.MAX_TITLE)
    summary = models.TextField(_("summary"), blank=True, help_text=_("Shown before the start."))
    content_warning = models.CharField(
        _("content warning"),
        max_length=engine.MAX_WARNING,
        blank=True,
        help_text=_(
            "What the scenario contains that may distress an officer, such as an overdose or a "
            "death; shown before it starts. Leave empty if nothing does."
        ),
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"),
        default=70,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Percentage of the best possible score needed to pass."),
    )
    start = models.CharField(
        _("first step"), max_length=64, help_text=_("The key of the step the officer starts on.")
    )
    steps = StreamField([("step", StepBlock())], verbose_name=_("steps"), blank=True)
    audience = JurisdictionsField(
        _("for officers in"),
        help_text=_(
            "Tick the jurisdictions whose law this scenario follows; leave all unticked if it "
            "holds everywhere. Officers elsewhere are never shown it or required to pass it."
        ),
    )

    search_fields = [index.SearchField("title"), index.AutocompleteField("title")]

    class Meta:
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title or str(_("Untitled scenario"))

    def publish(self, revision: Revision, *args: Any, **kwargs: Any) -> Any:
        """Every way of publishing (editor, bulk action, schedule) refuses an invalid scenario."""
        problems = engine.validate(revision.as_object().to_engine())
        if problems:
            raise engine.ScenarioInvalid(problems)
        return super().publish(revision, *args, **kwargs)

    def to_engine(self) -> engine.Scenario:
        return scenario_from_values(
            title=self.title,
            summary=self.summary,
            content_warning=self.content_warning,
            pass_mark=self.pass_mark,
            start=self.start,
            steps=[block.value for block in self.steps],
        )

    # --- preview as a learner (PreviewableMixin)
    @property
    def preview_modes(self) -> list[tuple[str, str]]:
        return [("", _("Learner view")), ("map", _("Map"))]

    def get_preview_template(self, request: HttpRequest, mode_name: str) -> str:
        if mode_name == "map":
            return "scenarios/preview_map.html"
        return "scenarios/preview_learner.html"

    def get_preview_context(self, request: HttpRequest, mode_name: str) -> dict[str, Any]:
        context = super().get_preview_context(request, mode_name)
        scenario = self.to_engine()
        context["engine"] = scenario
        context["report"] = engine.analyse(scenario)
        context["map"] = scenario_map(scenario)
        return context


def engine_for_revision(revision: Revision) -> engine.Scenario:
    """The engine scenario exactly as it was in one stored revision, from the revision alone.

    `revision.as_object()` would also load the scenario as it is now and its latest revision,
    and check that each revision it names exists (queries on every step of every attempt);
    the engine reads only the revision's content (title, texts, pass mark, steps)."""
    return Scenario.from_serializable_data(revision.content, check_fks=False).to_engine()


def new_order_seed() -> int:
    """A fresh random seed for the order in which an attempt shows choices (0 to 2**63 - 1,
    the range of a signed 64-bit column). From `secrets`, so that nobody can predict it."""
    return secrets.randbits(63)


class Attempt(models.Model):
    """One officer's play-through of one revision of a scenario, recorded step by step."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scenario_attempts"
    )
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="attempts")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="+")
    lesson = models.ForeignKey(
        "wagtailcore.Page",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The lesson page the scenario was played from, to go back to."),
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    current_step = models.CharField(_("current step"), max_length=64)
    score = models.IntegerField(_("score"), default=0)
    critical = models.BooleanField(_("critical choice taken"), default=False)
    outcome = models.CharField(_("outcome"), max_length=16, blank=True)
    percent = models.PositiveSmallIntegerField(_("score (%)"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    order_seed = models.BigIntegerField(
        _("choice order seed"),
        default=new_order_seed,
        editable=False,
        help_text=_(
            "Fixes the shuffled order of each step's choices for this attempt "
            "(engine.display_order)."
        ),
    )

    class Meta:
        verbose_name = _("scenario attempt")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scenario"],
                condition=models.Q(finished_at__isnull=True),
                name="scenarios_one_open_attempt",
            )
        ]
        indexes = [models.Index(fields=["scenario", "revision", "started_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.scenario}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class AttemptChoice(models.Model):
    """A choice taken during an attempt, in order.

    `choice_id` is the choice's stable id, what analytics count by. `choice_index` is where the
    choice stood in the authored order of the revision played, kept for history only: authors
    reorder, add and remove choices, so positions mean nothing across revisions.
    """

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(_("position"))
    step = models.CharField(_("step"), max_length=64)
    choice_id = models.CharField(_("choice id"), max_length=64, blank=True)
    choice_index = models.PositiveSmallIntegerField(_("choice position (history only)"))
    points = models.SmallIntegerField(_("points"))
    critical = models.BooleanField(_("critical"), default=False)
    chosen_at = models.DateTimeField(_("chosen at"), default=timezone.now)

    class Meta:
        verbose_name = _("attempt choice")
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "position"], name="scenarios_one_choice_per_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.step}#{self.choice_id or self.choice_index}"
