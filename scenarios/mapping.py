"""Turns stored scenario data into engine objects and back. The only bridge to the engine.

A choice's id is the id Wagtail's ListBlock keeps for each item (`ListValue.bound_blocks[i]`),
so it survives reordering in the editor. `stream_from_scenario` writes the items in ListBlock's
own raw format, `{"type": "item", "value": ..., "id": ...}`, with the engine's ids; an item
stored without an id (data written before ids mattered) gets the engine's id by position.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from scenarios import engine

_FLAG_SEPARATORS = re.compile(r"[\s,]+")


def _text(value: Any) -> str:
    return "" if value is None else str(value).replace("\r\n", "\n")


def _items(value: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """(id, value) for each item of a ListBlock value: a ListValue, or a list of raw items or
    plain values. The id is "" where none was stored (Wagtail would invent a new random one on
    every load), so that the engine gives it one by position instead."""
    if value is None:
        return []
    bound = getattr(value, "bound_blocks", None)
    if bound is not None:
        return [(child.original_id or "", child.value) for child in bound]
    items = []
    for item in value:
        if isinstance(item, Mapping) and item.get("type") == "item" and "value" in item:
            items.append((str(item.get("id") or ""), item["value"]))
        else:
            items.append(("", item))
    return items


def flags_from_text(value: Any) -> tuple[str, ...]:
    """Flag names from the editor's "Sets flags" field: separated by spaces or commas."""
    names = [name for name in _FLAG_SEPARATORS.split(_text(value).strip()) if name]
    return tuple(dict.fromkeys(names))


def scenario_from_values(
    *,
    title: str,
    summary: str,
    pass_mark: int,
    start: str,
    steps: Iterable[Mapping[str, Any]],
    content_warning: str = "",
) -> engine.Scenario:
    """Build an engine Scenario from StreamField step values (StructValues or dicts)."""
    built = []
    for step in steps:
        choices = tuple(
            engine.Choice(
                text=_text(choice["text"]),
                next=_text(choice["next"]).strip(),
                points=int(choice["points"] or 0),
                feedback=_text(choice["feedback"]),
                critical=bool(choice["critical"]),
                id=choice_id,
                pinned=bool(choice.get("pinned")),
                sets=flags_from_text(choice.get("sets")),
            )
            for choice_id, choice in _items(step["choices"])
        )
        debriefs = tuple(
            engine.Debrief(
                flag=_text(debrief["flag"]).strip(),
                text=_text(debrief["text"]),
                unless=debrief.get("condition") == "unless",
            )
            for _id, debrief in _items(step.get("debriefs"))
        )
        built.append(
            engine.Step(
                key=_text(step["key"]).strip(),
                text=_text(step["text"]),
                choices=choices,
                outcome=step["outcome"] or None,
                debrief=_text(step["debrief"]),
                debriefs=debriefs,
            )
        )
    return engine.Scenario(
        title=_text(title),
        summary=_text(summary),
        content_warning=_text(content_warning),
        pass_mark=int(pass_mark if pass_mark is not None else 0),
        start=_text(start).strip(),
        steps=tuple(built),
    )


def stream_from_scenario(scenario: engine.Scenario) -> list[dict[str, Any]]:
    """StreamField raw data for the steps of an engine Scenario (used by import), with each
    choice stored under its engine id."""
    return [
        {
            "type": "step",
            "value": {
                "key": step.key,
                "text": step.text,
                "choices": [
                    {
                        "type": "item",
                        "value": {
                            "text": c.text,
                            "next": c.next,
                            "points": c.points,
                            "feedback": c.feedback,
                            "critical": c.critical,
                            "pinned": c.pinned,
                            "sets": " ".join(c.sets),
                        },
                        "id": c.id,
                    }
                    for c in step.choices
                ],
                "outcome": step.outcome or "",
                "debrief": step.debrief,
                "debriefs": [
                    {
                        "type": "item",
                        "value": {
                            "condition": "unless" if d.unless else "if",
                            "flag": d.flag,
                            "text": d.text,
                        },
                        "id": str(uuid.uuid4()),
                    }
                    for d in step.debriefs
                ],
            },
        }
        for step in scenario.steps
    ]
