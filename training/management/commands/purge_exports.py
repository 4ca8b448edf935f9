from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from training.export_files import export_files_purge


class Command(BaseCommand):
    help = (
        "Delete export files (XLSX written in the background) past their time: the stored "
        "files and their records. Each build does this too; run it from cron (say hourly) so "
        "that files go on time even when nobody exports."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = export_files_purge()
        self.stdout.write(self.style.SUCCESS(f"expired export files deleted={count}"))
