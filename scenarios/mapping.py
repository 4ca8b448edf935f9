"""Turns stored scenario data into engine objects and back. The only bridge to the engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scenarios import engine


def _text(value: Any) -> str:
    return "" if value is None else str(value).replace("\r\n", "\n")


def scenario_from_values(
    *, title: str, summary: str, pass_mark: int, start: str, steps: Iterable[Mapping[str, Any]]
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
            )
            for choice in step["choices"]
        )
        built.append(
            engine.Step(
                key=_text(step["key"]).strip(),
                text=_text(step["text"]),
                choices=choices,
                outcome=step["outcome"] or None,
                debrief=_text(step["debrief"]),
            )
        )
    return engine.Scenario(
        title=_text(title),
        summary=_text(summary),
        pass_mark=int(pass_mark if pass_mark is not None else 0),
        start=_text(start).strip(),
        steps=tuple(built),
    )


def stream_from_scenario(scenario: engine.Scenario) -> list[dict[str, Any]]:
    """StreamField raw data for the steps of an engine Scenario (used by import)."""
    return [
        {
            "type": "step",
            "value": {
                "key": step.key,
                "text": step.text,
                "choices": [
                    {
                        "text": c.text,
                        "next": c.next,
                        "points": c.points,
                        "feedback": c.feedback,
                        "critical": c.critical,
                    }
                    for c in step.choices
                ],
                "outcome": step.outcome or "",
                "debrief": step.debrief,
            },
        }
        for step in scenario.steps
    ]
