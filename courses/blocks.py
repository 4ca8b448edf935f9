"""StreamField blocks for lessons. One shared stream block, LessonStreamBlock."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock

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

    class Meta:
        icon = "openquote"
        template = "blocks/citation_block.html"
        description = _("A source the lesson draws on")


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

    class Meta:
        block_counts = {"content_warning": {"max_num": 1}}
