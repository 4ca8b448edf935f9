"""Course > module > lesson pages, and each officer's progress through them."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import DraftStateMixin, Page, PageViewRestriction, Revision, RevisionMixin
from wagtail.search import index

from courses import cache as content_cache
from courses.blocks import (
    PREVIEW_MODES,
    LessonStreamBlock,
    OptionBlock,
    preview_jurisdiction,
    set_request_jurisdiction,
)
from courses.forms import LessonPageForm, SoundStreamsPageForm
from courses.rules import BankProblem, bank_question_problems, lesson_minutes
from officers.jurisdictions import Jurisdiction as OfficerJurisdiction
from officers.jurisdictions import JurisdictionsField
from scenarios import engine


class LearnerPageMixin:
    """Course content is for signed-in officers: progress is recorded per officer.

    Each page's `get_context` asks courses.selectors, which queries these page models; the
    import sits inside `get_context` because the two modules of this app need each other.
    """

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # Content for another jurisdiction is, to the officer, a missing page; authors'
        # previews show everything.
        if not getattr(request, "is_preview", False):
            from courses.selectors import learner_page_withheld

            if learner_page_withheld(user=request.user, page=self):  # type: ignore[arg-type]
                raise Http404
        return super().serve(request, *args, **kwargs)  # type: ignore[misc]

    def get_view_restrictions(self) -> Any:
        """Wagtail reads the view restrictions of the page and its ancestors on every view (two
        queries). Sites with none at all (the usual case: these pages are for signed-in
        officers anyway) know it from the shared cache, without a query."""
        if not content_cache.get_or_build(
            "view-restrictions", "any", lambda: PageViewRestriction.objects.exists()
        ):
            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()  # type: ignore[misc]


class CourseIndexPage(LearnerPageMixin, Page):
    intro = models.TextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["pathways.HomePage"]
    subpage_types = ["courses.CoursePage"]
    max_count = 1

    class Meta:
        verbose_name = _("course index")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from courses.selectors import courses_open_to, minutes_for, outlines_for
        from officers.selectors import officer_jurisdiction

        context = super().get_context(request, *args, **kwargs)
        # Only the courses that apply to the officer, each timed by their own outline.
        courses = list(
            courses_open_to(request.user, CoursePage.objects.child_of(self).live().specific())
        )
        context["courses"] = courses
        outlines = outlines_for(courses, jurisdiction=officer_jurisdiction(request.user))
        context["minutes"] = minutes_for(outlines.values())
        return context


class Jurisdiction(models.TextChoices):
    """Which officers a course (or bank question) is for: one jurisdiction, or all."""

    SCOTLAND = "scotland", _("Scotland")
    ENGLAND_WALES = "england_wales", _("England and Wales")
    NORTHERN_IRELAND = "northern_ireland", _("Northern Ireland")
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
    # No longer typed in: the course's time is the sum of its live lessons' estimates,
    # computed when shown (courses.selectors.minutes_for). The column stays (unused) so that
    # nothing reading the old field breaks; a later migration may drop it.
    duration_minutes = models.PositiveIntegerField(
        _("estimated duration (minutes)"), default=60, editable=False
    )
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

    assessment_question_count = models.PositiveSmallIntegerField(
        _("questions per attempt"),
        default=0,
        validators=[MaxValueValidator(50)],
        help_text=_(
            "How many questions each attempt at the final assessment draws from the course's "
            "question bank. 0: the course has no final assessment."
        ),
    )
    assessment_pass_mark = models.PositiveSmallIntegerField(
        _("assessment pass mark (%)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    assessment_max_attempts = models.PositiveSmallIntegerField(
        _("attempts before a pause"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("After this many failed attempts in a row the officer must wait."),
    )
    assessment_cooldown_hours = models.PositiveSmallIntegerField(
        _("pause (hours)"),
        default=24,
        validators=[MaxValueValidator(24 * 30)],
        help_text=_("How long the officer waits after using up their attempts."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("audience"),
        MultiFieldPanel(
            [FieldPanel("jurisdiction")],
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
        MultiFieldPanel(
            [
                FieldPanel("assessment_question_count"),
                FieldPanel("assessment_pass_mark"),
                FieldPanel("assessment_max_attempts"),
                FieldPanel("assessment_cooldown_hours"),
            ],
            heading=_("Final assessment"),
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


def _outcomes_field(what: str) -> StreamField:
    """Learning outcomes: each continues "By the end of this <what> you can ..."."""
    return StreamField(
        [("outcome", blocks.CharBlock(label=_("Learning outcome"), max_length=300))],
        blank=True,
        verbose_name=_("learning outcomes"),
        help_text=_(
            "What an officer can do after this %(what)s, one per line, each continuing "
            '"By the end of this %(what)s you can ..." (for example "recognise the signs '
            'of an opioid overdose").'
        )
        % {"what": what},
    )


class ModulePage(LearnerPageMixin, Page):
    intro = models.TextField(_("introduction"), blank=True)
    outcomes = _outcomes_field("module")

    audience = JurisdictionsField(
        _("for officers in"),
        help_text=_(
            "Tick the jurisdictions whose officers take this module; leave all unticked for "
            "every jurisdiction. Officers elsewhere never see it and are not required to do it."
        ),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("outcomes"),
        FieldPanel("audience"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["courses.CoursePage"]
    subpage_types = ["courses.LessonPage"]
    base_form_class = SoundStreamsPageForm

    class Meta:
        verbose_name = _("module")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from courses.selectors import module_view

        context = super().get_context(request, *args, **kwargs)
        context.update(module_view(user=request.user, module=self))
        return context


class LessonPage(LearnerPageMixin, Page):
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    outcomes = _outcomes_field("lesson")
    # Computed from the content on every save (`estimated_minutes`), never typed in.
    duration_minutes = models.PositiveIntegerField(
        _("estimated duration (minutes)"), default=1, editable=False
    )
    body = StreamField(LessonStreamBlock(), verbose_name=_("content"))
    # Scenario ids placed in `body`, kept in step with it on save so that progress can be
    # computed without loading every lesson's content.
    scenario_ids = models.JSONField(default=list, editable=False)

    audience = JurisdictionsField(
        _("for officers in"),
        help_text=_(
            "Tick the jurisdictions whose officers take this lesson; leave all unticked for "
            "every jurisdiction. Officers elsewhere never see it and are not required to do it."
        ),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("outcomes"),
        FieldPanel("audience"),
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
        self.duration_minutes = self.estimated_minutes()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {*update_fields, "scenario_ids", "duration_minutes"}
        super().save(*args, **kwargs)

    def estimated_minutes(self) -> int:
        """Minutes to work through the lesson, from its content (courses.rules.lesson_minutes):
        the words of text, key messages, check questions and video transcripts; the decisions
        on the longest route of each placed scenario; one minute per check question."""
        words = decisions = questions = 0
        for block in self.body:
            value = block.value
            if block.block_type == "text":
                words += _count_words(strip_tags(value.source))
            elif block.block_type == "key_message":
                words += _count_words(value["heading"], value["text"])
            elif block.block_type == "video":
                words += _count_words(value["title"], value["transcript"])
            elif block.block_type == "question":
                questions += 1
                words += _count_words(value["prompt"], *(o["text"] for o in value["options"]))
            elif block.block_type == "jurisdiction_switch":
                # Each officer reads one body: count the longest.
                bodies = (strip_tags(value[code].source) for code in OfficerJurisdiction.values)
                words += _count_words(value["heading"]) + max(map(_count_words, bodies))
            elif block.block_type == "scenario" and value["scenario"] is not None:
                decisions += _scenario_decisions(value["scenario"])
        return lesson_minutes(words=words, scenario_decisions=decisions, questions=questions)

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

    def block_positions(self, *block_types: str) -> list[int]:
        """Where blocks of these types are in the body, read from its stored form: the other
        blocks are not loaded (an image block's image, a scenario block's scenario)."""
        return [i for i, raw in enumerate(self.body.raw_data) if raw["type"] in block_types]

    def stored_scenario_ids(self) -> list[int]:
        """The ids of the scenarios placed in the body, as stored (without loading them; a
        deleted scenario's id stays, where `placed_scenario_ids` leaves it out)."""
        ids = []
        for position in self.block_positions("scenario"):
            scenario_id = (self.body.raw_data[position]["value"] or {}).get("scenario")
            if scenario_id is not None:
                ids.append(scenario_id)
        return ids

    def content_warning(self) -> Any:
        positions = self.block_positions("content_warning")
        return self.body[positions[0]].value if positions else None

    # --- "view as" previews (PreviewableMixin): authors and leads see the lesson as an officer
    # in each jurisdiction; the blocks read the chosen one from the request.
    @property
    def preview_modes(self) -> list[tuple[str, str]]:
        return PREVIEW_MODES

    def serve_preview(self, request: HttpRequest, mode_name: str) -> HttpResponse:
        set_request_jurisdiction(request, preview_jurisdiction(mode_name))
        return super().serve_preview(request, mode_name)

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from courses.selectors import lesson_view

        context = super().get_context(request, *args, **kwargs)
        # The body as shown (`body`) leaves out the scenarios for other jurisdictions.
        context.update(lesson_view(request=request, lesson=self))
        return context


def _count_words(*texts: str) -> int:
    return sum(len(str(text or "").split()) for text in texts)


def _scenario_decisions(scenario: Any) -> int:
    """The decisions on the scenario's longest route (its stored, live content), or, when a
    loop makes that unbounded or the graph is broken, the number of its decision steps."""
    try:
        played = scenario.to_engine()
    except (engine.ScenarioInvalid, KeyError, TypeError, ValueError):
        return 0
    longest = engine.max_decisions(played)
    return longest if longest is not None else sum(1 for step in played.steps if step.choices)


def new_order_seed() -> str:
    """A random seed kept with an attempt: the order its options are shown in derives from it."""
    return secrets.token_hex(8)


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
    # The order of each check question's options in this run derives from this seed.
    order_seed = models.CharField(max_length=32, default=new_order_seed, editable=False)

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
    # From the officer first opening the lesson in this run to marking it complete.
    seconds_spent = models.PositiveIntegerField(_("time spent (seconds)"), null=True, blank=True)

    class Meta:
        verbose_name = _("lesson completion")
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "lesson"], name="courses_lesson_completed_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} · {self.lesson_id}"


class LessonVisit(models.Model):
    """When an officer first opened a lesson in their current run of the course: the start of
    the time they spent on it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_visits"
    )
    lesson = models.ForeignKey(LessonPage, on_delete=models.CASCADE, related_name="visits")
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)

    class Meta:
        verbose_name = _("lesson visit")
        constraints = [
            models.UniqueConstraint(fields=["user", "lesson"], name="courses_one_visit_per_lesson")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.lesson_id}"


class CheckAnswer(models.Model):
    """One answer to a lesson's check question, in one run of the course (every try is kept)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="check_answers")
    lesson = models.ForeignKey(LessonPage, on_delete=models.CASCADE, related_name="check_answers")
    question = models.CharField(_("question (block id)"), max_length=64)
    chosen = models.JSONField(_("options chosen (ids)"), default=list)
    correct = models.BooleanField(_("correct"))
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)
    seconds = models.PositiveIntegerField(_("time taken (seconds)"), null=True, blank=True)

    class Meta:
        verbose_name = _("check answer")
        ordering = ["answered_at"]
        indexes = [models.Index(fields=["enrolment", "lesson"])]

    def __str__(self) -> str:
        return f"{self.enrolment_id} · {self.lesson_id} · {self.question}"


BANK_PROBLEM_MESSAGES = {
    BankProblem.TOO_FEW_OPTIONS: _("Give at least two answers."),
    BankProblem.NO_CORRECT: _("Mark at least one answer correct."),
    BankProblem.MORE_THAN_ONE_CORRECT: _(
        "Only one answer may be correct unless “more than one answer is correct” is ticked."
    ),
}


class BankQuestion(DraftStateMixin, RevisionMixin, index.Indexed, models.Model):
    """A question in a course's final-assessment bank (a Wagtail snippet with revisions)."""

    course = models.ForeignKey(
        CoursePage,
        on_delete=models.CASCADE,
        related_name="bank_questions",
        verbose_name=_("course"),
    )
    module = models.ForeignKey(
        ModulePage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bank_questions",
        verbose_name=_("module"),
        help_text=_("The module this question assesses."),
    )
    jurisdiction = models.CharField(
        _("jurisdiction"), max_length=16, choices=Jurisdiction.choices, default=Jurisdiction.ALL
    )
    prompt = models.TextField(_("question"))
    multiple = models.BooleanField(
        _("more than one answer is correct"),
        default=False,
        help_text=_("Officers tick every correct answer instead of choosing one."),
    )
    options = StreamField(
        [("option", OptionBlock())],
        min_num=2,
        max_num=8,
        verbose_name=_("answers"),
    )
    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="bank_question")

    search_fields = [index.SearchField("prompt"), index.AutocompleteField("prompt")]

    class Meta:
        verbose_name = _("assessment question")
        verbose_name_plural = _("assessment questions")
        ordering = ["course", "pk"]

    def __str__(self) -> str:
        return self.prompt[:80]

    @property
    def revisions(self) -> Any:
        return self._revisions

    def clean(self) -> None:
        """Refuse, on every write path, a question officers could not answer correctly."""
        super().clean()
        flags = [bool(child.value.get("correct")) for child in self.options or ()]
        problems = bank_question_problems(flags, multiple=self.multiple)
        errors: dict[str, list[Any]] = {}
        if problems:
            errors["options"] = [BANK_PROBLEM_MESSAGES[problem] for problem in problems]
        module = self.module if self.module_id else None
        course = self.course if self.course_id else None
        if course is not None and module is not None and not module.path.startswith(course.path):
            errors["module"] = [_("Choose a module of the question's course.")]
        if errors:
            raise ValidationError(errors)


class AssessmentAttempt(models.Model):
    """One attempt at a course's final assessment, in one run (enrolment) of the course."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assessment_attempts"
    )
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="assessment_attempts"
    )
    course = models.ForeignKey(
        CoursePage, on_delete=models.PROTECT, related_name="assessment_attempts"
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    pass_mark = models.PositiveSmallIntegerField(_("pass mark (%)"))
    score = models.PositiveSmallIntegerField(_("questions right"), null=True, blank=True)
    total = models.PositiveSmallIntegerField(_("questions"))
    percent = models.PositiveSmallIntegerField(_("score (%)"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)

    class Meta:
        verbose_name = _("assessment attempt")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=models.Q(submitted_at__isnull=True),
                name="courses_one_open_assessment_attempt",
            )
        ]
        indexes = [models.Index(fields=["user", "course", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.course_id} · {self.started_at:%Y-%m-%d}"


class AssessmentAnswer(models.Model):
    """A question drawn for an attempt: which revision was shown, in what option order, and
    the officer's answer."""

    attempt = models.ForeignKey(AssessmentAttempt, on_delete=models.CASCADE, related_name="answers")
    position = models.PositiveSmallIntegerField(_("position"))
    question = models.ForeignKey(
        BankQuestion, on_delete=models.SET_NULL, null=True, related_name="answers"
    )
    revision = models.ForeignKey(Revision, on_delete=models.SET_NULL, null=True, related_name="+")
    # The question as drawn (prompt, multiple, options with their ids, right answers and
    # feedback): the attempt is shown and scored from this, and it stays the evidence behind a
    # certificate even if an author later deletes the question or its revisions are purged.
    snapshot = models.JSONField(_("question as drawn"), null=True, blank=True)
    option_order = models.JSONField(_("options shown (ids, in order)"), default=list)
    chosen = models.JSONField(_("options chosen (ids)"), null=True, blank=True)
    correct = models.BooleanField(_("correct"), null=True, blank=True)
    shown_at = models.DateTimeField(_("first shown at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("assessment answer")
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "position"], name="courses_one_answer_per_position"
            )
        ]
        indexes = [models.Index(fields=["question", "revision"])]

    def __str__(self) -> str:
        return f"{self.attempt_id}#{self.position}"


class LocalInformation(DraftStateMixin, RevisionMixin, index.Indexed, models.Model):
    """A short piece of force-local information (a Wagtail snippet with revisions) that
    lessons place with a block: each officer sees their own division's, else their own
    force's, and never another force's."""

    class Kind(models.TextChoices):
        ARREST_REFERRAL = "arrest_referral", _("Arrest referral or local drug service")
        # Named for both jurisdictions at once: officers see this label (an alcohol and drug
        # partnership in Scotland, a combating drugs partnership in England and Wales).
        PARTNERSHIP = "partnership", _("Local drugs partnership")
        OUT_OF_COURT = "out_of_court", _("Out-of-court disposals the force's policy allows")
        WELFARE = "welfare", _("Welfare and occupational-health contacts")

    unit = models.ForeignKey(
        "officers.Unit",
        on_delete=models.CASCADE,
        related_name="local_information",
        verbose_name=_("force or division"),
        help_text=_("The force or division whose officers see this."),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    body = models.TextField(
        _("text"), help_text=_("Plain text; blank lines between paragraphs. Keep it short.")
    )
    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="local_information")

    search_fields = [index.SearchField("body")]

    class Meta:
        verbose_name = _("local information")
        verbose_name_plural = _("local information")
        ordering = ["unit__path", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "kind"], name="courses_one_local_text_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.unit.name}"

    @property
    def revisions(self) -> Any:
        return self._revisions
