from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scenarios.models import Scenario
from scenarios.services import scenario_export


class Command(BaseCommand):
    help = "Export a scenario as a pathways-scenario/1 JSON document."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("scenario_id", type=int)
        parser.add_argument(
            "-o", "--output", type=Path, help="Write to this file (default: stdout)"
        )
        parser.add_argument(
            "--draft", action="store_true", help="Export the latest draft, not the live version."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scenario = Scenario.objects.filter(pk=options["scenario_id"]).first()
        if scenario is None:
            raise CommandError(f"There is no scenario with id {options['scenario_id']}.")
        text = json.dumps(
            scenario_export(scenario, live=not options["draft"]), indent=2, ensure_ascii=False
        )
        if options["output"]:
            options["output"].write_text(text + "\n", encoding="utf-8")
        else:
            self.stdout.write(text)
