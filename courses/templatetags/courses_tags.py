"""Template helpers for lesson blocks."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest

from officers.params import parse_id

register = template.Library()


@register.simple_tag
def question_state(value: Any, *, block_id: str, request: HttpRequest | None) -> dict[str, Any]:
    """Feedback for a check-your-understanding answer sent with GET (nothing is recorded)."""
    field = f"answer-{block_id}"
    raw = request.GET.getlist(field) if request is not None else []
    chosen = {index for index in map(parse_id, raw) if index is not None}
    options = []
    for index, option in enumerate(value["options"]):
        options.append(
            {
                "text": option["text"],
                "correct": option["correct"],
                "feedback": option["feedback"],
                "chosen": index in chosen,
                # Show feedback on what the officer chose, and on right answers they missed.
                "show_feedback": index in chosen or (bool(chosen) and option["correct"]),
            }
        )
    right = {i for i, option in enumerate(value["options"]) if option["correct"]}
    return {
        "field": field,
        "options": options,
        "answered": bool(chosen),
        "all_right": chosen == right,
    }


@register.filter
def get_item(mapping: dict[Any, Any] | None, key: Any) -> Any:
    return (mapping or {}).get(key)
