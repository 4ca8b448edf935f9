"""StreamField blocks for lessons. One shared stream block, LessonStreamBlock."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, Subquery
from django.db.models.functions import Coalesce, Substr
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock

from officers.jurisdictions import Jurisdiction
from officers.models import OfficerProfile, Unit, User
from officers.selectors import officer_jurisdiction
from scenarios.blocks import ScenarioBlock

RICH_TEXT_FEATURES = ["h3", "bold", "italic", "ol", "ul", "link"]


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("Image"))
    alt_text = blocks.CharBlock(
        label=_("Alternative text"),
        max_length=300,
        help_text=_("Required. Describe what the image shows for someone who cannot see it."),
    )
    caption = blocks.CharBlock(label=_("Caption"), required=False, max_length=300)

    class Meta:
        icon = "image"
        template = "blocks/image_block.html"
        description = _("An image with required alternative text and an optional caption")


class VideoBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Title"), max_length=200)
    video = EmbedBlock(label=_("Video URL"), help_text=_("A YouTube or Vimeo address."))
    transcript = blocks.TextBlock(
        label=_("Transcript"),
        help_text=_("Required: the full transcript, for officers who cannot play sound."),
    )

    class Meta:
        icon = "media"
        template = "blocks/video_block.html"
        description = _("An embedded video with its transcript")


class KeyMessageBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("Heading"), max_length=120)
    text = blocks.TextBlock(label=_("Message"))

    class Meta:
        icon = "pick"
        template = "blocks/key_message_block.html"
        description = _("A highlighted key message")
        preview_value = {
            "heading": "Call 999 first",
            "text": "Naloxone buys time; it does not replace an ambulance.",
        }


class OptionBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("Answer"), max_length=300)
    correct = blocks.BooleanBlock(label=_("Correct"), required=False)
    feedback = blocks.TextBlock(
        label=_("Feedback"), help_text=_("Why this answer is right or wrong.")
    )
    pinned = blocks.BooleanBlock(
        label=_("Always show last"),
        required=False,
        help_text=_("For answers such as 'None of these'; the others are shown shuffled."),
    )

    class Meta:
        icon = "radio-full"


class QuestionBlock(blocks.StructBlock):
    prompt = blocks.TextBlock(label=_("Question"))
    multiple = blocks.BooleanBlock(
        label=_("More than one answer is correct"),
        required=False,
        help_text=_("Learners tick every correct answer instead of choosing one."),
    )
    options = blocks.ListBlock(OptionBlock(), min_num=2, max_num=8, label=_("Answers"))

    class Meta:
        icon = "help"
        template = "blocks/question_block.html"
        description = _("A check-your-understanding question (not scored)")

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        correct = sum(1 for option in value["options"] if option["correct"])
        if correct == 0:
            raise StructBlockValidationError(
                block_errors={"options": ValidationError(_("Mark at least one answer correct."))}
            )
        if not value["multiple"] and correct > 1:
            raise StructBlockValidationError(
                block_errors={
                    "options": ValidationError(
                        _("Only one answer may be correct unless 'more than one' is ticked.")
                    )
                }
            )
        return value


class ContentWarningBlock(blocks.StructBlock):
    contains = blocks.TextBlock(
        label=_("What this lesson contains"),
        help_text=_("e.g. descriptions of overdose and death."),
    )
    support = blocks.TextBlock(
        label=_("Where to find support"),
        help_text=_("e.g. your force's occupational health or wellbeing service."),
    )

    class Meta:
        icon = "warning"
        template = "blocks/content_warning_block.html"
        description = _("Shown before the lesson, with a choice to continue")


class CitationBlock(blocks.StructBlock):
    source = blocks.CharBlock(label=_("Source"), max_length=200, help_text=_("Who published it."))
    title = blocks.CharBlock(label=_("Title"), max_length=300, required=False)
    year = blocks.CharBlock(label=_("Year"), max_length=20, required=False)
    url = blocks.URLBlock(label=_("Link"), required=False)
    note = blocks.TextBlock(label=_("What this lesson draws from it"), required=False)
    audience = blocks.MultipleChoiceBlock(
        label=_("Listed for officers in"),
        choices=Jurisdiction.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "For a source of one jurisdiction's content (in a jurisdiction switch): tick it, and "
            "only its officers see the reference. Leave all unticked to list it for everyone."
        ),
    )

    class Meta:
        icon = "openquote"
        template = "blocks/citation_block.html"
        description = _("A source the lesson draws on")


# --------------------------------------------------------------- whose text a page shows

# The request attributes the blocks read: the jurisdiction (set by a "view as" preview, else
# the officer's, computed once) and the officer's force-local texts (one query per page).
JURISDICTION_ATTR = "pathways_jurisdiction"
LOCAL_TEXTS_ATTR = "pathways_local_texts"
_UNSET = object()

# LessonPage's "view as" preview modes: mode name -> the jurisdiction the blocks show.
NO_JURISDICTION_MODE = "no_jurisdiction"
PREVIEW_MODES: list[tuple[str, Any]] = [
    (Jurisdiction.SCOTLAND.value, _("As an officer in Scotland")),
    (Jurisdiction.ENGLAND_WALES.value, _("As an officer in England and Wales")),
    (Jurisdiction.NORTHERN_IRELAND.value, _("As an officer in Northern Ireland")),
    (NO_JURISDICTION_MODE, _("As an officer whose force has no jurisdiction set")),
]


def preview_jurisdiction(mode_name: str) -> str | None:
    """The jurisdiction a preview mode shows; an unknown mode (an old link) the first one's."""
    if mode_name == NO_JURISDICTION_MODE:
        return None
    return mode_name if mode_name in Jurisdiction.values else PREVIEW_MODES[0][0]


def set_request_jurisdiction(request: HttpRequest, code: str | None) -> None:
    """Show this request's blocks as for an officer in `code` (None: no jurisdiction)."""
    setattr(request, JURISDICTION_ATTR, code)


def request_jurisdiction(request: HttpRequest | None) -> str | None:
    """The jurisdiction whose text this request's blocks show: the one a preview set, else the
    signed-in officer's (officers.selectors.officer_jurisdiction), looked up once per request."""
    if request is None:
        return None
    code = getattr(request, JURISDICTION_ATTR, _UNSET)
    if code is _UNSET:
        user = getattr(request, "user", None)
        code = officer_jurisdiction(user) if user is not None else None
        set_request_jurisdiction(request, code)
    return code  # type: ignore[return-value]


def local_texts_for(user: User) -> dict[str, str]:
    """The published force-local text of each kind for this officer: their division's (the
    unit at depth 2 above or at their unit) over their force's, never another force's. One
    query, whatever the number of kinds."""
    from courses.models import LocalInformation  # models import this module

    if not user.is_authenticated:
        return {}
    step = Unit.steplen
    home = _home_path(user)
    if home is None:
        return {}
    if home is _UNSET:  # the profile is not at hand: read its unit's path in the same query
        path: Any = Subquery(
            OfficerProfile.objects.filter(user_id=user.pk)
            .annotate(home=Coalesce("unit__path", "force__path"))
            .values("home")[:1]
        )
        force, division = Substr(path, 1, step), Substr(path, 1, 2 * step)
    else:
        force, division = home[:step], home[: 2 * step]
    rows = (
        LocalInformation.objects.filter(live=True)
        .filter(Q(unit__depth=1, unit__path=force) | Q(unit__depth=2, unit__path=division))
        .values_list("kind", "unit__depth", "body")
    )
    best: dict[str, tuple[int, str]] = {}
    for kind, depth, body in rows:
        if kind not in best or depth > best[kind][0]:
            best[kind] = (depth, body)
    return {kind: body for kind, (_depth, body) in best.items()}


def _home_path(user: User) -> Any:
    """The path of the officer's unit (else force) when their profile, unit and force are
    already read (pathways.middleware reads them with the user); _UNSET when they are not, None
    when the officer has neither."""
    if not User.officer.related.is_cached(user):
        return _UNSET
    officer = User.officer.related.get_cached_value(user)
    if officer is None:
        return None
    for field, value_id in (("unit", officer.unit_id), ("force", officer.force_id)):
        if value_id is None:
            continue
        if not OfficerProfile._meta.get_field(field).is_cached(officer):
            return _UNSET
        return getattr(officer, field).path
    return None


def request_local_texts(request: HttpRequest | None) -> dict[str, str]:
    """local_texts_for the request's officer, looked up once per request."""
    if request is None or getattr(request, "user", None) is None:
        return {}
    texts = getattr(request, LOCAL_TEXTS_ATTR, None)
    if texts is None:
        texts = local_texts_for(request.user)
        setattr(request, LOCAL_TEXTS_ATTR, texts)
    return texts


def _is_preview(parent_context: Any) -> tuple[Any, bool]:
    """The request, and whether this is an author's preview: of a page (`is_preview`) or of
    the block alone in the block chooser (Wagtail passes `block_def` only there)."""
    context = parent_context or {}
    request = context.get("request")
    return request, bool(getattr(request, "is_preview", False)) or "block_def" in context


class JurisdictionSwitchBlock(blocks.StructBlock):
    """One heading, a text per jurisdiction: each officer is sent only their own."""

    heading = blocks.CharBlock(label=_("Heading"), max_length=120)
    scotland = blocks.RichTextBlock(
        label=_("For officers in Scotland"), features=RICH_TEXT_FEATURES
    )
    england_wales = blocks.RichTextBlock(
        label=_("For officers in England and Wales"), features=RICH_TEXT_FEATURES
    )
    northern_ireland = blocks.RichTextBlock(
        label=_("For officers in Northern Ireland"),
        features=RICH_TEXT_FEATURES,
        required=False,
        help_text=_("Optional. Officers in Northern Ireland are told it is not written yet."),
    )

    class Meta:
        icon = "site"
        template = "blocks/jurisdiction_switch_block.html"
        description = _(
            "The same heading with different text for Scotland and for England and Wales: "
            "each officer sees only their own"
        )
        preview_value = {
            "heading": "Diverting a person found with drugs",
            "scotland": "<p>Consider a Recorded Police Warning.</p>",
            "england_wales": "<p>Consider a community resolution or a diversion scheme.</p>",
        }

    def get_context(self, value: Any, parent_context: Any = None) -> dict[str, Any]:
        request, preview = _is_preview(parent_context)
        context = super().get_context(value, parent_context=parent_context)
        code = (
            PREVIEW_MODES[0][0]
            if preview and request is not None and not hasattr(request, JURISDICTION_ATTR)
            else request_jurisdiction(request)
        )
        # Only the officer's own text goes to the template: the others are never sent.
        context["jurisdiction"] = code
        context["jurisdiction_label"] = Jurisdiction(code).label if code else ""
        context["text"] = value.get(code) if code else None
        context["preview"] = preview
        return context


def _local_kinds() -> list[tuple[str, str]]:
    from courses.models import LocalInformation  # models import this module

    return list(LocalInformation.Kind.choices)


class LocalInformationBlock(blocks.StructBlock):
    """Force-local information (courses.models.LocalInformation) of one kind: the officer's
    division's published text, else their force's, else an honest "not set yet"."""

    kind = blocks.ChoiceBlock(label=_("Kind of local information"), choices=_local_kinds)
    lead_in = blocks.CharBlock(
        label=_("Lead-in sentence"),
        required=False,
        max_length=300,
        help_text=_("Optional, shown before the force's text."),
    )

    class Meta:
        icon = "home"
        template = "blocks/local_information_block.html"
        description = _(
            "Your force's own information of one kind (set by training leads under Local "
            "information): each officer sees their division's or force's"
        )
        preview_value = {"kind": "arrest_referral", "lead_in": "Where to refer someone locally:"}

    def get_context(self, value: Any, parent_context: Any = None) -> dict[str, Any]:
        request, preview = _is_preview(parent_context)
        context = super().get_context(value, parent_context=parent_context)
        kind = value.get("kind") or ""
        context["kind_label"] = dict(_local_kinds()).get(kind, kind)
        context["preview"] = preview
        context["text"] = "" if preview else request_local_texts(request).get(kind, "")
        return context


class LessonStreamBlock(blocks.StreamBlock):
    text = blocks.RichTextBlock(
        label=_("Text"), features=RICH_TEXT_FEATURES, template="blocks/text_block.html"
    )
    image = ImageBlock()
    video = VideoBlock()
    key_message = KeyMessageBlock()
    question = QuestionBlock()
    content_warning = ContentWarningBlock()
    citation = CitationBlock()
    scenario = ScenarioBlock()
    jurisdiction_switch = JurisdictionSwitchBlock()
    local_information = LocalInformationBlock()

    class Meta:
        block_counts = {"content_warning": {"max_num": 1}}
