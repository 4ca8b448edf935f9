"""Course > module > lesson pages, and each officer's progress through them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page, Revision
from wagtail.search import index

from courses.blocks import LessonStreamBlock
from courses.forms import LessonPageForm


class LearnerPageMixin:
    """Course content is for signed-in officers: progress is recorded per officer.

    Each page's `get_context` asks courses.selectors, which queries these page models; the
    import sits inside `get_context` because the two modules of this app need each other.
    """

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().serve(request, *args, **kwargs)  # type: ignore[misc]


class CourseIndexPage(LearnerPageMixin, Page):
    intro = models.TextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["pathways.HomePage"]
    subpage_types = ["courses.CoursePage"]
    max_count = 1

    class Meta:
        verbose_name = _("course index")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context["courses"] = CoursePage.objects.child_of(self).live().specific()
        return context


class Jurisdiction(models.TextChoices):
    SCOTLAND = "scotland", _("Scotland")
    ENGLAND_WALES = "england_wales", _("England and Wales")
    ALL = "all", _("All of the UK")


# What an author may set. Beyond these a certificate's dates stop making sense, and far
# enough beyond they stop being dates at all (completion would fail on a date overflow).
MAX_VALIDITY_MONTHS = 240
MAX_REFRESHER_WINDOW_DAYS = 3650
# No run of n months is shorter than 28 × n days (31 January + 1 month = 28 February), so a
# refresher window under that many days always opens after the certificate is issued.
SHORTEST_MONTH_DAYS = 28


class CoursePage(LearnerPageMixin, Page):
    summary = models.TextField(_("summary"), help_text=_("One or two sentences for learners."))
    audience = models.CharField(
        _("intended audience"), max_length=255, help_text=_("Who the course is for.")
    )
    duration_minutes = models.PositiveIntegerField(_("estimated duration (minutes)"), default=60)
    jurisdiction = models.CharField(
        _("jurisdiction"), max_length=16, choices=Jurisdiction.choices, default=Jurisdiction.ALL
    )
    validity_months = models.PositiveIntegerField(
        _("certificate valid for (months)"),
        null=True,
        blank=True,
        validators=[
            MinValueValidator(1, _("A certificate is valid for at least 1 month.")),
            MaxValueValidator(
                MAX_VALIDITY_MONTHS,
                _(
                    "A certificate can be valid for at most %(limit_value)s months (20 years). "
                    "Leave this empty if it never expires."
                ),
            ),
        ],
        help_text=_("Leave empty if the certificate never expires."),
    )
    refresher_window_days = models.PositiveIntegerField(
        _("refresher window (days)"),
        default=60,
        validators=[
            MaxValueValidator(
                MAX_REFRESHER_WINDOW_DAYS,
                _("The refresher window can be at most %(limit_value)s days (10 years)."),
            )
        ],
        help_text=_(
            "How long before expiry an officer is asked to refresh: shorter than the validity."
        ),
    )
    signatory_name = models.CharField(
        _("signatory"), max_length=200, blank=True, help_text=_("Who signs the certificates.")
    )
    signatory_role = models.CharField(_("signatory's role"), max_length=200, blank=True)
    signatory_image = models.ForeignKey(
        "wagtailimages.Image",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signature image"),
        help_text=_("Optional: a PNG or JPEG of the signature."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("audience"),
        MultiFieldPanel(
            [
                FieldPanel("duration_minutes"),
                FieldPanel("jurisdiction"),
            ],
            heading=_("Course details"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("validity_months"),
                FieldPanel("refresher_window_days"),
                FieldPanel("signatory_name"),
                FieldPanel("signatory_role"),
                FieldPanel("signatory_image"),
            ],
            heading=_("Certificate"),
        ),
    ]
    search_fields = [*Page.search_fields, index.SearchField("summary")]
    parent_page_types = ["courses.CourseIndexPage"]
    subpage_types = ["courses.ModulePage"]

    class Meta:
        verbose_name = _("course")

    def clean(self) -> None:
        super().clean()
        months, days = self.validity_months, self.refresher_window_days
        if months is None or days is None or not 1 <= months <= MAX_VALIDITY_MONTHS:
            return  # never expires, or the validity's own error says what is wrong
        if days >= months * SHORTEST_MONTH_DAYS:
            raise ValidationError(
                {
                    "refresher_window_days": _(
                        "The refresher window must be shorter than the validity: "
                        "fewer than %(days)s days."
                    )
                    % {"days": months * SHORTEST_MONTH_DAYS}
                }
            )

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from courses.selectors import course_view

        context = super().get_context(request, *args, **kwargs)
        context.update(course_view(user=request.user, course=self))
        return context


class ModulePage(LearnerPageMixin, Page):
    intro = models.TextField(_("introduction"), blank=True)
    outcomes = StreamField(
        [("outcome", blocks.CharBlock(label=_("Learning outcome"), max_length=300))],
        blank=True,
        verbose_name=_("learning outcomes"),
        help_text=_("What an officer can do after this module, one per line."),
    )

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("outcomes")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["courses.CoursePage"]
    subpage_types = ["courses.LessonPage"]

    class Meta:
        verbose_name = _("module")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from courses.selectors import module_view

        context = super().get_context(request, *args, **kwargs)
        context.update(module_view(user=request.user, module=self))
        return context


class LessonPage(LearnerPageMixin, Page):
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    duration_minutes = models.PositiveIntegerField(_("estimated duration (minutes)"), default=10)
    body = StreamField(LessonStreamBlock(), verbose_name=_("content"))
    # Scenario ids placed in `body`, kept in step with it on save so that progress can be
    # computed without loading every lesson's content.
    scenario_ids = models.JSONField(default=list, editable=False)

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("duration_minutes"),
        FieldPanel("body"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
    ]
    parent_page_types = ["courses.ModulePage"]
    subpage_types: list[str] = []
    base_form_class = LessonPageForm

    class Meta:
        verbose_name = _("lesson")

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.scenario_ids = self.placed_scenario_ids()
        super().save(*args, **kwargs)

    def publish_problems(self, body: Any = None) -> list[str]:
        """Why this lesson (or this `body` for it) cannot be published: one message for each
        placed scenario that is not live."""
        drafts: dict[int, Any] = {}
        for block in self.body if body is None else body:
            scenario = block.value["scenario"] if block.block_type == "scenario" else None
            if scenario is not None and not scenario.live:
                drafts.setdefault(scenario.pk, scenario)
        return [
            _(
                "The scenario “%(title)s” is not published: learners could not pass it. "
                "Publish the scenario before publishing this lesson."
            )
            % {"title": scenario}
            for scenario in drafts.values()
        ]

    def placed_scenario_ids(self) -> list[int]:
        ids: list[int] = []
        for block in self.body:
            if block.block_type == "scenario" and block.value["scenario"] is not None:
                ids.append(block.value["scenario"].pk)
        return ids

    def content_warning(self) -> Any:
        return next((b.value for b in self.body if b.block_type == "content_warning"), None)

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from courses.selectors import lesson_view

        context = super().get_context(request, *args, **kwargs)
        context.update(lesson_view(request=request, lesson=self))
        return context


class Enrolment(models.Model):
    """One officer's pass through a course. A refresher is a new enrolment."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enrolments",
        verbose_name=_("officer"),
    )
    course = models.ForeignKey(
        CoursePage, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("course")
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # Scenario passes count toward this enrolment if made after this moment: the completion
    # of the officer's previous run (a refresher needs them passed again); None for the first.
    passes_count_after = models.DateTimeField(null=True, blank=True, editable=False)
    completed_revision = models.ForeignKey(
        Revision,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("course revision completed"),
    )

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=models.Q(completed_at__isnull=True),
                name="courses_one_open_enrolment_per_course",
            )
        ]
        indexes = [models.Index(fields=["user", "course", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.course}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None


class LessonCompletion(models.Model):
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="lesson_completions"
    )
    lesson = models.ForeignKey(LessonPage, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField(_("completed at"), default=timezone.now)

    class Meta:
        verbose_name = _("lesson completion")
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "lesson"], name="courses_lesson_completed_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} · {self.lesson_id}"
