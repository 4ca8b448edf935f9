from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from scenarios.models import Scenario
from scenarios.services import scenario_import, scenario_publish

# A small valid scenario: arrive -> (good: +2 -> call) | (search: 0, critical -> bad-end)
# call -> (stay: +3 -> good-end) | (leave: 0 -> bad-end); good-end passes, bad-end fails.
DOC: dict[str, Any] = {
    "format": "pathways-scenario/1",
    "title": "Stairwell",
    "summary": "A man is slumped on a landing.",
    "pass_mark": 80,
    "start": "arrive",
    "steps": [
        {
            "key": "arrive",
            "text": "You find a man slumped on a stairwell landing.",
            "choices": [
                {
                    "text": "Check it is safe and call 999",
                    "next": "call",
                    "points": 2,
                    "feedback": "Safety first, then help.",
                },
                {
                    "text": "Search his pockets",
                    "next": "bad-end",
                    "points": 0,
                    "critical": True,
                    "feedback": "Searching delays care.",
                },
                {
                    "text": "Shout for help and wait",
                    "next": "call",
                    "points": 0,
                    "feedback": "Slower than acting yourself.",
                },
            ],
        },
        {
            "key": "call",
            "text": "Control says the ambulance is eight minutes away.",
            "choices": [
                {
                    "text": "Stay with him",
                    "next": "good-end",
                    "points": 3,
                    "feedback": "Naloxone wears off.",
                },
                {
                    "text": "Leave to flag down the crew",
                    "next": "bad-end",
                    "points": 0,
                    "feedback": "He could stop breathing alone.",
                },
            ],
        },
        {
            "key": "good-end",
            "text": "The crew takes over.",
            "outcome": "pass",
            "debrief": "You stayed and handed over.",
        },
        {
            "key": "bad-end",
            "text": "He stops breathing.",
            "outcome": "fail",
            "debrief": "Care was delayed.",
        },
    ],
}


def document(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    doc.update(changes)
    return doc


def publish_document(doc: dict[str, Any]) -> Scenario:
    scenario = scenario_import(raw=json.dumps(doc))
    scenario_publish(scenario=scenario)
    scenario.refresh_from_db()
    return scenario


@pytest.fixture
def scenario(db) -> Scenario:  # noqa: ANN001
    return publish_document(DOC)
