"""Generate a synthetic force at scale for benchmarks (see site/synthetic/)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pathways.synthetic import DEFAULT_FORCE, ForceExists, generate


class Command(BaseCommand):
    help = (
        "Create a synthetic force with N officers, its units, courses, assignments, progress, "
        "certificates and scenario attempts, in bulk. For benchmarks and load tests only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--officers", type=int, required=True, help="How many officers.")
        parser.add_argument(
            "--courses", type=int, default=10, help="How many synthetic courses (default 10)."
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--force-name",
            default=DEFAULT_FORCE,
            help=f"Name of the force to create (default {DEFAULT_FORCE!r}); must be new.",
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Run even though DEBUG is off (never on a live site: it adds fake officers).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["yes"]:
            raise CommandError(
                "generate_synthetic fills the database with fake officers and certificates, so "
                "it refuses to run when DEBUG is off. Use --yes if this really is a benchmark "
                "or test database."
            )
        if options["officers"] < 1:
            raise CommandError("--officers must be at least 1.")
        if options["courses"] < 1:
            raise CommandError("--courses must be at least 1.")
        verbose = options["verbosity"] >= 2
        try:
            counts = generate(
                officers=options["officers"],
                courses=options["courses"],
                seed=options["seed"],
                force_name=options["force_name"],
                progress=(lambda message: self.stdout.write(message)) if verbose else None,
            )
        except ForceExists as exc:
            raise CommandError(str(exc)) from exc
        out = self.stdout.write
        out(self.style.SUCCESS(f"Synthetic force {options['force_name']!r} created."))
        out(
            f"units={counts.units} officers={counts.officers} "
            f"training_leads={counts.training_leads} courses_created={counts.courses_created} "
            f"courses_reused={counts.courses_reused}"
        )
        out(
            f"assignments={counts.assignments} current={counts.current_assignments} "
            f"refresher={counts.refresher_assignments}"
        )
        out(
            f"enrolments_completed={counts.enrolments_completed} "
            f"enrolments_open={counts.enrolments_open} "
            f"lesson_completions={counts.lesson_completions}"
        )
        states = " ".join(f"{k}={v}" for k, v in counts.certificate_states.items())
        out(f"certificates={counts.certificates} {states}".rstrip())
        out(
            f"attempts={counts.attempts} passed={counts.attempts_passed} "
            f"attempt_choices={counts.attempt_choices}"
        )
        out(f"seconds={counts.seconds:.1f}")
