from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from training.reminders import send_reminders


class Command(BaseCommand):
    help = (
        "Assign refreshers that are due and queue email reminders (assigned, due in 7 days, "
        "overdue, certificate expiring) in the outbox, for the task worker to send; also hand "
        "the worker the outbox's due retries. Each reminder is made at most once; safe to run "
        "every few minutes, even two copies at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = send_reminders()
        self.stdout.write(self.style.SUCCESS(run.summary()))
        if run.failed:
            self.stdout.write(
                self.style.WARNING(
                    f"{run.failed} email(s) failed in the last 7 days: see 'Reminders sent' "
                    "in the admin for the reminders among them and the mail server's reply."
                )
            )
