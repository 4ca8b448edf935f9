"""Blocks for authoring a scenario's steps, and the lesson block that places a scenario."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock


class ScenarioChoiceBlock(blocks.StructBlock):
    text = blocks.TextBlock(label=_("Choice"), help_text=_("What the officer can decide to do."))
    next = blocks.CharBlock(
        label=_("Next step"), max_length=64, help_text=_("The key of the step this leads to.")
    )
    points = blocks.IntegerBlock(label=_("Points"), default=0, min_value=-10, max_value=10)
    feedback = blocks.TextBlock(
        label=_("Feedback"), required=False, help_text=_("Shown after the choice is made.")
    )
    critical = blocks.BooleanBlock(
        label=_("Critical (unsafe)"),
        required=False,
        help_text=_(
            "Unlawful or dangerous: taking this choice means the attempt cannot pass, whatever "
            "the score."
        ),
    )
    pinned = blocks.BooleanBlock(
        label=_("Always last"),
        required=False,
        help_text=_(
            "Officers see the choices in a shuffled order; a choice marked here always comes "
            "after the shuffled ones, e.g. “None of these”."
        ),
    )
    sets = blocks.CharBlock(
        label=_("Sets flags"),
        required=False,
        max_length=500,
        help_text=_(
            "Names that taking this choice records, separated by spaces or commas (letters, "
            "digits, '-' and '_'), e.g. 'called-999'. An ending's conditional debriefs can "
            "depend on them."
        ),
    )

    class Meta:
        icon = "arrow-right"


class DebriefBlock(blocks.StructBlock):
    """Part of an ending's debrief, shown only when a choice on the route set a flag (or not)."""

    condition = blocks.ChoiceBlock(
        choices=[
            ("if", _("Show if the flag is set")),
            ("unless", _("Show unless the flag is set")),
        ],
        default="if",
        label=_("Condition"),
    )
    flag = blocks.RegexBlock(
        regex=r"^[A-Za-z0-9_-]{1,64}$",
        label=_("Flag"),
        error_messages={"invalid": _("Use letters, digits, '-' and '_' only (at most 64).")},
        help_text=_("A flag that a choice sets (see “Sets flags” on the choices)."),
    )
    text = blocks.TextBlock(label=_("Text"))

    class Meta:
        icon = "comment"


class StepBlock(blocks.StructBlock):
    key = blocks.RegexBlock(
        regex=r"^[A-Za-z0-9_-]{1,64}$",
        label=_("Key"),
        error_messages={"invalid": _("Use letters, digits, '-' and '_' only (at most 64).")},
        help_text=_("A short unique name, e.g. 'arrive' or 'good-outcome'."),
    )
    text = blocks.TextBlock(
        label=_("Situation"), help_text=_("Plain text; blank lines between paragraphs.")
    )
    choices = blocks.ListBlock(
        ScenarioChoiceBlock(),
        min_num=0,
        label=_("Choices"),
        help_text=_("Leave empty for an ending."),
    )
    outcome = blocks.ChoiceBlock(
        choices=[("pass", _("Pass")), ("fail", _("Fail")), ("neutral", _("Neutral"))],
        required=False,
        label=_("Outcome (endings only)"),
        help_text=_(
            "Pass: the officer handled it well; the only outcome that can pass. Neutral: no "
            "harm done, but not the outcome the training is after; the officer is told “Not "
            "passed: try again”. Fail: it went wrong."
        ),
    )
    debrief = blocks.TextBlock(
        label=_("Debrief (endings only)"),
        required=False,
        help_text=_(
            "Shown whatever route led here: do not praise what the officer may not have done."
        ),
    )
    debriefs = blocks.ListBlock(
        DebriefBlock(),
        min_num=0,
        default=[],
        label=_("Conditional debriefs (endings only)"),
        help_text=_(
            "Each is shown after the debrief when its condition holds for the route taken."
        ),
    )

    class Meta:
        icon = "list-ul"
        label_format = "{key}"


class ScenarioBlock(blocks.StructBlock):
    """Places a branching scenario in a lesson; passing it counts toward the module."""

    scenario = SnippetChooserBlock("scenarios.Scenario", label=_("Scenario"))

    class Meta:
        icon = "resubmit"
        template = "blocks/scenario_block.html"
        description = _("A branching scenario the officer must pass")

    def get_context(self, value: Any, parent_context: dict[str, Any] | None = None) -> dict:
        """`status`: the officer's open and last attempts, from the page's `scenario_status`
        (one query for every scenario on the page)."""
        context = super().get_context(value, parent_context=parent_context)
        scenario = value["scenario"]
        statuses = (parent_context or {}).get("scenario_status") or {}
        context["status"] = statuses.get(scenario.pk) if scenario is not None else None
        return context
