from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from training.tally import tally_rebuild, tally_roll


class Command(BaseCommand):
    help = (
        "Move the matrix's tally to today: count the assignments that fell due and the "
        "certificates that entered or left their refresher window since its date. Run it from "
        "cron daily, shortly after midnight (a read corrects for the days it is behind, at a "
        "cost that grows with them). --rebuild counts the whole tally again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", type=date.fromisoformat, help="the date (default: today)")
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="count everything again (after the tally was emptied or changed by hand)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rebuild"]:
            tally_rebuild(as_of=options["to"])
            self.stdout.write(self.style.SUCCESS("tally rebuilt"))
            return
        rolled = tally_roll(to=options["to"])
        self.stdout.write(self.style.SUCCESS(f"tally as_of={rolled}"))
