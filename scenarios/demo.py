"""Demo scenarios: the files in scenarios/demo/, imported and published. Safe to run again.
(courses/demo.py places them in the demo course.)"""

from __future__ import annotations

from pathlib import Path

from scenarios import engine
from scenarios.models import Scenario
from scenarios.services import scenario_import, scenario_publish

DEMO_DIR = Path(__file__).resolve().parent / "demo"


def demo_scenario(filename: str, *, audience: list[str] | None = None) -> Scenario:
    """The demo scenario in `filename`, imported and published once, for officers in
    `audience` (jurisdiction codes; empty or None: all). An existing one is left as it is."""
    raw = (DEMO_DIR / filename).read_bytes()
    title = engine.parse_json(raw).title
    scenario = Scenario.objects.filter(title=title).first()
    if scenario is None:
        scenario = scenario_import(raw=raw)
        if audience:
            # The file format has no audience: it is set on the draft before publishing.
            scenario.audience = list(audience)
            scenario.save(update_fields=["audience"])
            scenario.save_revision()
        scenario_publish(scenario=scenario)
    return scenario
