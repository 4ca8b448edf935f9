"""Reads for scenarios: passes (for course completion), the choices an attempt shows, and
per-step analytics."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, QuerySet

from officers.models import User
from scenarios import engine
from scenarios.models import Attempt, AttemptChoice, engine_for_revision


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


def attempt_options(
    *, attempt: Attempt, scenario: engine.Scenario | None = None
) -> tuple[engine.Choice, ...]:
    """The current step's choices in the order this attempt shows them (its seed decides).

    `scenario` is the attempt's revision as an engine scenario, when the caller has it already.
    """
    played = scenario if scenario is not None else engine_for_revision(attempt.revision)
    return engine.display_order(played.step(attempt.current_step), attempt.order_seed)


@dataclass(frozen=True)
class ChoiceStats:
    """How often one choice (by id) was taken. `current` is False for a choice the version
    shown does not have: one that an earlier version had and attempts on it took."""

    id: str
    text: str
    count: int
    percent: int
    current: bool = True


@dataclass
class StepStats:
    key: str
    text: str
    reached: int
    is_ending: bool
    outcome: str | None
    choices: list[ChoiceStats] = field(default_factory=list)


def step_statistics(
    scenario: engine.Scenario,
    attempts: QuerySet[Attempt],
    *,
    versions: Iterable[engine.Scenario] = (),
) -> tuple[int, list[StepStats]]:
    """For each step of `scenario`: how many attempts reached it, and how often each choice was
    chosen, counted by choice id, so that attempts on other revisions (with choices reordered,
    added or removed) count toward the same choice.

    A choice that `scenario` lacks but attempts took is listed after the others, with its text
    from the newest of `versions` that has it (pass them newest first). Four queries whatever
    the number of attempts.
    """
    total = attempts.count()
    per_choice: dict[tuple[str, str], int] = {}
    reached: dict[str, int] = {}
    rows = (
        AttemptChoice.objects.filter(attempt__in=attempts)
        .values("step", "choice_id")
        .annotate(n=Count("id"))
    )
    for row in rows:
        per_choice[(row["step"], row["choice_id"])] = row["n"]
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
    older = [v for v in versions if v is not scenario]
    stats = []
    for step in scenario.steps:
        known = {choice.id for choice in step.choices}
        listed = [(c.id, c.text, True) for c in step.choices]
        for (key, choice_id), _count in per_choice.items():
            if key == step.key and choice_id not in known:
                listed.append((choice_id, _old_text(older, key, choice_id), False))
                known.add(choice_id)
        counts = [per_choice.get((step.key, choice_id), 0) for choice_id, _t, _c in listed]
        chosen = sum(counts)
        stats.append(
            StepStats(
                key=step.key,
                text=step.text,
                reached=reached.get(step.key, 0),
                is_ending=step.is_ending,
                outcome=step.outcome,
                choices=[
                    ChoiceStats(
                        id=choice_id,
                        text=text,
                        count=n,
                        percent=round(100 * n / chosen) if chosen else 0,
                        current=current,
                    )
                    for (choice_id, text, current), n in zip(listed, counts, strict=True)
                ],
            )
        )
    return total, stats


def _old_text(versions: list[engine.Scenario], step_key: str, choice_id: str) -> str:
    for version in versions:
        if version.has_step(step_key):
            try:
                return version.step(step_key).choice(choice_id).text
            except KeyError:
                continue
    return choice_id or "(recorded without a choice id)"
