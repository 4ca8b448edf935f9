from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from officers.services import ImportRejected, import_officers


class Command(BaseCommand):
    help = (
        "Import officers from a CSV file as HR systems export it (columns: email, given_name,"
        " family_name, service_number, force, unit, rank, role). All rows or none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Path to the CSV file")
        parser.add_argument(
            "--no-invitations",
            action="store_true",
            help="Do not email new officers an invitation to set their password.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            report = import_officers(data, send_invitations=not options["no_invitations"])
        except ImportRejected as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"{path}: nothing was imported; {len(exc.errors)} problem(s) listed above."
            ) from exc
        self.stdout.write(self.style.SUCCESS(report.summary()))
