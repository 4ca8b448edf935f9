from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scenarios import engine
from scenarios.services import scenario_import, scenario_publish


class Command(BaseCommand):
    help = "Import a scenario from a pathways-scenario/1 JSON file (as a draft unless --publish)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--publish", action="store_true", help="Publish it straight away.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            scenario = scenario_import(raw=raw)
        except engine.ScenarioInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{path}: nothing was imported; {len(exc.problems)} problem(s) listed above."
            ) from exc
        if options["publish"]:
            scenario_publish(scenario=scenario)
        state = "published" if options["publish"] else "draft"
        self.stdout.write(self.style.SUCCESS(f"Imported “{scenario}” (id {scenario.pk}, {state})."))
