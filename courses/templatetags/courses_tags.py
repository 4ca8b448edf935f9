"""Template helpers for lesson blocks."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()

# Feedback that already opens with a verdict ("Correct. ...", "No. ...") gets no label of ours
# in front of it: "Correct. Correct. ..." reads as a stutter.
_RIGHT_VERDICT = re.compile(r"^\s*(correct|right|yes)\b[\s.,:;!–—-]", re.IGNORECASE)
_WRONG_VERDICT = re.compile(
    r"^\s*(not quite|no|incorrect|wrong|not correct)\b[\s.,:;!–—-]", re.IGNORECASE
)


def feedback_label(feedback: str, *, correct: bool) -> str:
    """ "Correct." or "Not quite." before an option's feedback, unless the feedback already
    starts with a verdict."""
    text = f"{feedback or ''} "
    if correct:
        return "" if _RIGHT_VERDICT.match(text) else _("Correct.")
    return "" if _WRONG_VERDICT.match(text) else _("Not quite.")


@register.simple_tag(takes_context=True)
def question_state(context: template.Context, value: Any, *, block_id: str) -> dict[str, Any]:
    """A check question as the lesson page shows it (courses.selectors.lesson_checks): options
    in this run's order, with feedback on the latest answer's chosen options only (a wrong
    answer does not reveal the right one beyond what the feedback says), and any error."""
    block_id = str(block_id)
    check = (context.get("checks") or {}).get(block_id) or {}
    items = {str(item.id): item.value for item in value["options"].bound_blocks}
    order = [i for i in check.get("order", items) if i in items]
    chosen = check.get("chosen", set())
    options = []
    for option_id in order:
        option = items[option_id]
        picked = option_id in chosen
        options.append(
            {
                "id": option_id,
                "text": option["text"],
                "correct": option["correct"],
                "feedback": option["feedback"],
                "label": feedback_label(option["feedback"], correct=option["correct"]),
                "chosen": picked,
                "show_feedback": picked,
            }
        )
    return {
        "field": f"answer-{block_id}",
        "options": options,
        "answered": check.get("answered", False),
        "all_right": check.get("all_right", False),
        "error": check.get("error", ""),
        "url": context.get("check_url"),
    }


@register.filter
def get_item(mapping: dict[Any, Any] | None, key: Any) -> Any:
    return (mapping or {}).get(key)
