"""Reads for scenarios: passes (for course completion) and per-step analytics."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, QuerySet

from officers.models import User
from scenarios import engine
from scenarios.models import Attempt, AttemptChoice


def last_passes(*, user: User, scenario_ids: Iterable[int]) -> dict[int, datetime]:
    """When the officer last passed each scenario (one query)."""
    rows = (
        Attempt.objects.filter(user=user, scenario_id__in=list(scenario_ids), passed=True)
        .values("scenario_id")
        .annotate(last=Max("finished_at"))
    )
    return {row["scenario_id"]: row["last"] for row in rows}


def attempts_by_scenario(*, user: User, scenario_ids: Iterable[int]) -> dict[int, list[Attempt]]:
    """The officer's attempts at these scenarios, newest first (one query)."""
    result: dict[int, list[Attempt]] = {}
    for attempt in Attempt.objects.filter(user=user, scenario_id__in=list(scenario_ids)).order_by(
        "-started_at"
    ):
        result.setdefault(attempt.scenario_id, []).append(attempt)
    return result


@dataclass
class StepStats:
    key: str
    text: str
    reached: int
    is_ending: bool
    outcome: str | None
    choices: list[tuple[str, int, int]] = field(default_factory=list)  # text, count, percent


def step_statistics(
    scenario: engine.Scenario, attempts: QuerySet[Attempt]
) -> tuple[int, list[StepStats]]:
    """For each step: how many attempts reached it, and how often each choice was chosen.

    Two grouped queries whatever the number of attempts.
    """
    total = attempts.count()
    per_choice: dict[tuple[str, int], int] = {}
    reached: dict[str, int] = {}
    rows = (
        AttemptChoice.objects.filter(attempt__in=attempts)
        .values("step", "choice_index")
        .annotate(n=Count("id"), attempts=Count("attempt", distinct=True))
    )
    for row in rows:
        per_choice[(row["step"], row["choice_index"])] = row["n"]
    for row in (
        AttemptChoice.objects.filter(attempt__in=attempts)
        .values("step")
        .annotate(attempts=Count("attempt", distinct=True))
    ):
        reached[row["step"]] = row["attempts"]
    for row in (
        attempts.filter(finished_at__isnull=False).values("current_step").annotate(n=Count("id"))
    ):
        reached[row["current_step"]] = reached.get(row["current_step"], 0) + row["n"]
    if total:
        reached.setdefault(scenario.start, total)
    stats = []
    for step in scenario.steps:
        counts = [per_choice.get((step.key, i), 0) for i in range(len(step.choices))]
        chosen = sum(counts)
        stats.append(
            StepStats(
                key=step.key,
                text=step.text,
                reached=reached.get(step.key, 0),
                is_ending=step.is_ending,
                outcome=step.outcome,
                choices=[
                    (c.text, n, round(100 * n / chosen) if chosen else 0)
                    for c, n in zip(step.choices, counts, strict=True)
                ],
            )
        )
    return total, stats
