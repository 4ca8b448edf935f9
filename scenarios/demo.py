"""Demo scenarios: the files in scenarios/demo/, imported, published and placed in a lesson at
the end of each module of the demo course. Safe to run again."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from courses.models import CoursePage, LessonPage, ModulePage
from scenarios import engine
from scenarios.models import Scenario
from scenarios.services import scenario_import, scenario_publish

DEMO_DIR = Path(__file__).resolve().parent / "demo"
# module slug in the demo course -> scenario file
PLACEMENT = {
    "trauma-informed-practice": "person-in-distress.json",
    "stigma-and-language": "handover-language.json",
    "naloxone-and-overdose": "overdose-stairwell.json",
    "direct-measures-and-diversion": "possession-stop.json",
}


def demo_scenario(filename: str) -> Scenario:
    raw = (DEMO_DIR / filename).read_bytes()
    title = engine.parse_json(raw).title
    scenario = Scenario.objects.filter(title=title).first()
    if scenario is None:
        scenario = scenario_import(raw=raw)
        scenario_publish(scenario=scenario)
    return scenario


@transaction.atomic
def place_demo_scenarios(course: CoursePage) -> list[Scenario]:
    placed = []
    for module_slug, filename in PLACEMENT.items():
        module = ModulePage.objects.child_of(course).filter(slug=module_slug).first()
        if module is None:
            continue
        scenario = demo_scenario(filename)
        placed.append(scenario)
        slug = f"practise-{Path(filename).stem}"
        if LessonPage.objects.child_of(module).filter(slug=slug).exists():
            continue
        lesson = LessonPage(
            title=f"Practise: {scenario.title}",
            slug=slug,
            summary="Put the module into practice in a branching scenario.",
            duration_minutes=10,
            body=[
                {
                    "type": "text",
                    "value": (
                        "<p>Work through the scenario below. Each choice has consequences and "
                        "feedback; at the end you see your score, whether you passed, and a "
                        "debrief. You must pass it to complete this module, and you can try "
                        "as often as you like. Unsafe choices are marked as critical: taking "
                        "one means the attempt cannot pass.</p>"
                    ),
                },
                {"type": "scenario", "value": {"scenario": scenario.pk}},
            ],
        )
        module.add_child(instance=lesson)
        lesson.save_revision().publish()
    return placed
