"""Writes for scenarios: attempts (the server decides everything), import and publishing.

Every refusal raises PlayRefused with an HTTP status and a message for the officer, and
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Page

from officers.jurisdictions import audience_includes
from officers.models import User
from officers.selectors import officer_jurisdiction
from scenarios import engine
from scenarios.mapping import stream_from_scenario
from scenarios.models import Attempt, AttemptChoice, Scenario, engine_for_revision


class PlayRefused(Exception):
    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _state(attempt: Attempt, choices: list[AttemptChoice]) -> engine.AttemptState:
    return engine.AttemptState(
        current=attempt.current_step,
        path=tuple(
            engine.TakenChoice(c.step, c.choice_index, c.points, c.critical, c.choice_id)
            for c in choices
        ),
        score=attempt.score,
        critical=attempt.critical,
        finished=attempt.is_finished,
    )


def _finish(attempt: Attempt, scenario: engine.Scenario, state: engine.AttemptState) -> None:
    outcome = engine.result(scenario, state)
    attempt.finished_at = timezone.now()
    attempt.outcome = outcome.outcome
    attempt.percent = outcome.percent
    attempt.passed = outcome.passed


def attempt_start(*, user: User, scenario_id: int, lesson_id: int | None = None) -> Attempt:
    """Resume the officer's unfinished attempt, or start a new one on the live revision."""
    scenario = Scenario.objects.filter(pk=scenario_id, live=True).first()
    if (
        scenario is None
        or scenario.live_revision_id is None
        # Another jurisdiction's scenario looks exactly like a missing one.
        or not audience_includes(scenario.audience, officer_jurisdiction(user))
    ):
        raise PlayRefused(_("This scenario is not available."), status=404)
    with transaction.atomic():
        open_attempt = (
            Attempt.objects.select_for_update()
            .filter(user=user, scenario=scenario, finished_at__isnull=True)
            .first()
        )
        if open_attempt is not None:
            return open_attempt
        if lesson_id is not None and not Page.objects.filter(pk=lesson_id).exists():
            lesson_id = None  # only a page that exists is kept, to go back to
        revision = scenario.live_revision
        played = engine_for_revision(revision)
        state = engine.start(played)
        attempt = Attempt(
            user=user,
            scenario=scenario,
            revision=revision,
            lesson_id=lesson_id,
            current_step=state.current,
        )
        if state.finished:
            _finish(attempt, played, state)
        try:
            with transaction.atomic():
                attempt.save()
        except IntegrityError:  # a parallel request started one a moment ago
            return Attempt.objects.get(user=user, scenario=scenario, finished_at__isnull=True)
        return attempt


@dataclass(frozen=True)
class Chosen:
    attempt: Attempt
    choice: engine.Choice
    position: int


def attempt_choose(*, user: User, attempt_id: int, step: str, choice: object) -> Chosen:
    """Take a choice at the attempt's current step, as the server sees it.

    `choice` is the id of one of the current step's choices, as the form posts it. Anything
    else (a position, an unknown id, a number) is refused with a 400 and changes nothing.
    """
    missing = choice is None or (isinstance(choice, str) and not choice.strip())
    with transaction.atomic():
        attempt = (
            Attempt.objects.select_for_update()
            .select_related("revision")
            .filter(pk=attempt_id, user=user)
            .first()
        )
        if attempt is None:
            raise PlayRefused(_("There is no such attempt."), status=404)
        if attempt.is_finished:
            raise PlayRefused(
                _(
                    "This attempt has finished; nothing was changed. "
                    "Start a new attempt to try again."
                ),
                status=409,
            )
        if step != attempt.current_step:
            raise PlayRefused(
                _(
                    "That choice was for a step you have already answered (perhaps in another "
                    "tab, or by pressing the button twice). Nothing was changed; carry on from "
                    "where you are now."
                ),
                status=409,
            )
        if missing:
            raise PlayRefused(_("Choose one of the options to continue."), status=400)
        played = engine_for_revision(attempt.revision)
        taken = list(attempt.choices.all())
        try:
            if not isinstance(choice, str):  # the engine reads an int as a position: not here
                raise engine.BadChoice(f"The choice must be a choice id, not {choice!r}.")
            state = engine.choose(played, _state(attempt, taken), step=step, choice=choice)
        except engine.BadChoice as exc:
            raise PlayRefused(
                _("That is not one of the options for this step."), status=400
            ) from exc
        except engine.EngineError as exc:
            raise PlayRefused(str(exc), status=409) from exc
        made = state.path[-1]
        AttemptChoice.objects.create(
            attempt=attempt,
            position=len(taken),
            step=made.step,
            choice_id=made.choice_id,
            choice_index=made.choice_index,
            points=made.points,
            critical=made.critical,
        )
        attempt.current_step = state.current
        attempt.score = state.score
        attempt.critical = state.critical
        if state.finished:
            _finish(attempt, played, state)
        attempt.save()
        return Chosen(
            attempt=attempt,
            choice=played.step(made.step).choice(made.choice_id),
            position=len(taken),
        )


# --------------------------------------------------------------------------- authoring


def scenario_import(*, raw: bytes | str, user: User | None = None) -> Scenario:
    """Create a scenario (as a draft) from a pathways-scenario document (version 1 or 2).

    Raises engine.ScenarioInvalid listing every problem; nothing is saved then.
    """
    parsed = engine.parse_json(raw)
    with transaction.atomic():
        scenario = Scenario(
            title=parsed.title,
            summary=parsed.summary,
            content_warning=parsed.content_warning,
            pass_mark=parsed.pass_mark,
            start=parsed.start,
            steps=stream_from_scenario(parsed),
            live=False,
        )
        scenario.save()
        scenario.save_revision(user=user, log_action=True)
    return scenario


def scenario_publish(*, scenario: Scenario, user: User | None = None) -> None:
    """Publish the latest revision, refusing while the scenario has problems."""
    revision = scenario.latest_revision or scenario.save_revision(user=user)
    problems = engine.validate(revision.as_object().to_engine())
    if problems:
        raise engine.ScenarioInvalid(problems)
    revision.publish(user=user)


def scenario_export(scenario: Scenario, *, live: bool = True) -> dict[str, object]:
    """The scenario as a pathways-scenario/2 document (the live version, or the latest draft)."""
    if live and scenario.live_revision is not None:
        source = scenario.live_revision.as_object()
    elif scenario.latest_revision is not None:
        source = scenario.latest_revision.as_object()
    else:
        source = scenario
    return engine.to_document(source.to_engine())
