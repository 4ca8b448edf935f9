from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pathways.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the demo force, officers, accounts and courses. Safe to run more than once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (never on a live site: demo passwords are public).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates accounts with a published password, so it refuses to run "
                "when DEBUG is off. Use --force if this really is a demo or test site."
            )
        counts = load_demo()
        summary = ", ".join(f"{v} {k}" for k, v in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo content ready: {summary}."))
        self.stdout.write(f"Demo accounts use the password {DEMO_PASSWORD!r} (see README).")
