from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from officers.imports import ImportRejected, import_officers, officer_file_read, officer_import_plan


class Command(BaseCommand):
    help = (
        "Import officers from an HR file, CSV (UTF-8) or Excel (.xlsx), with the columns email,"
        " given_name, family_name, service_number, force, unit, rank, role. All rows or none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Path to the .csv or .xlsx file")
        parser.add_argument(
            "--no-invitations",
            action="store_true",
            help="Do not email new officers an invitation to set their password.",
        )
        parser.add_argument(
            "--preview",
            action="store_true",
            help="Print what the import would do, and change nothing.",
        )
        parser.add_argument(
            "--deactivate-leavers",
            action="store_true",
            help=(
                "Deactivate the active officers of the file's forces who are not in it (their"
                " records and certificates are kept). Only for a force's complete HR file."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            if options["preview"]:
                rows, errors = officer_file_read(data, path.name)
                plan = officer_import_plan(rows)
                if errors or plan.errors:
                    raise ImportRejected(errors + plan.errors)
                for key, count in plan.summary().items():
                    self.stdout.write(f"{key.replace('_', ' ')}: {count}")
                return
            report = import_officers(
                data,
                filename=path.name,
                send_invitations=not options["no_invitations"],
                deactivate_leavers=options["deactivate_leavers"],
            )
        except ImportRejected as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"{path}: nothing was imported; {len(exc.errors)} problem(s) listed above."
            ) from exc
        self.stdout.write(self.style.SUCCESS(report.summary()))
