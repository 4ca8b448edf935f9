from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from training.reminders import send_reminders


class Command(BaseCommand):
    help = (
        "Assign refreshers that are due and email reminders (assigned, due in 7 days, overdue, "
        "certificate expiring). Each is sent at most once; safe to run every few minutes, "
        "even two copies at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = send_reminders()
        self.stdout.write(self.style.SUCCESS(run.summary()))
