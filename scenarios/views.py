"""The scenario player: one step per page, no JavaScript needed, the server decides."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from officers.params import parse_id
from scenarios import engine
from scenarios.models import Attempt, AttemptChoice, engine_for_revision
from scenarios.selectors import attempt_options
from scenarios.services import PlayRefused, attempt_choose, attempt_start


def _refused(request: HttpRequest, exc: PlayRefused, back: str) -> HttpResponse:
    return render(
        request, "refused.html", {"message": exc.message, "back": back}, status=exc.status
    )


def _own_attempt(request: HttpRequest, attempt_id: int) -> Attempt:
    attempt = (
        Attempt.objects.select_related("revision", "scenario", "lesson")
        .filter(pk=attempt_id, user=request.user)
        .first()
    )
    if attempt is None:  # someone else's attempt looks exactly like a missing one
        raise Http404("No such attempt.")
    return attempt


@login_required
@require_POST
def start_view(request: HttpRequest, scenario_id: int) -> HttpResponse:
    try:
        attempt = attempt_start(
            user=request.user,
            scenario_id=scenario_id,
            lesson_id=parse_id(request.POST.get("lesson")),
        )
    except PlayRefused as exc:
        return _refused(request, exc, back=reverse("my_learning"))
    return redirect("scenarios:attempt", attempt_id=attempt.pk)


def _choice_of(step: engine.Step, made: AttemptChoice) -> engine.Choice:
    """The choice a stored row took: by id; by position only for a row stored without one."""
    return step.choice(made.choice_id) if made.choice_id else step.choices[made.choice_index]


def _path(played: engine.Scenario, made: list[AttemptChoice]) -> list[dict[str, object]]:
    rows = []
    for row in made:
        step = played.step(row.step)
        rows.append({"step": step, "choice": _choice_of(step, row), "made": row})
    return rows


def _step_context(attempt: Attempt, played: engine.Scenario) -> dict[str, Any]:
    """What the step page shows: the current step, its choices in this attempt's order, and
    "Decision N of up to M" (M is None when loops make it unbounded)."""
    return {
        "step": played.step(attempt.current_step),
        "options": attempt_options(attempt=attempt, scenario=played),
        "number": attempt.choices.count() + 1,
        "most": engine.max_decisions(played),
    }


@login_required
@require_GET
def attempt_view(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _own_attempt(request, attempt_id)
    played = engine_for_revision(attempt.revision)
    context = {"attempt": attempt, "played": played, "back": _back(attempt)}
    if attempt.is_finished:
        made = list(attempt.choices.all())
        state = engine.replay(played, [(c.step, c.choice_id or c.choice_index) for c in made])
        context["ending"] = played.step(attempt.current_step)
        context["path"] = _path(played, made)
        context["result"] = engine.result(played, state)
        context["debriefs"] = engine.debriefs_for(played, state)
        context["review"] = engine.review(played, state)
        return render(request, "scenarios/play_result.html", context)
    context.update(_step_context(attempt, played))
    return render(request, "scenarios/play_step.html", context)


@login_required
@require_POST
def choose_view(request: HttpRequest, attempt_id: int) -> HttpResponse:
    try:
        chosen = attempt_choose(
            user=request.user,
            attempt_id=attempt_id,
            step=request.POST.get("step", ""),
            choice=request.POST.get("choice"),
        )
    except PlayRefused as exc:
        if exc.status == 404:
            raise Http404(exc.message) from exc
        attempt = _own_attempt(request, attempt_id)
        if exc.status == 400 and not attempt.is_finished:
            played = engine_for_revision(attempt.revision)
            context = {
                "attempt": attempt,
                "played": played,
                "error": exc.message,
                "back": _back(attempt),
                **_step_context(attempt, played),
            }
            return render(request, "scenarios/play_step.html", context, status=400)
        return _refused(request, exc, back=f"/scenarios/attempts/{attempt.pk}/")
    return redirect("scenarios:feedback", attempt_id=chosen.attempt.pk)


@login_required
@require_GET
def feedback_view(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _own_attempt(request, attempt_id)
    last = attempt.choices.order_by("-position").first()
    if last is None:
        return redirect("scenarios:attempt", attempt_id=attempt.pk)
    played = engine_for_revision(attempt.revision)
    step = played.step(last.step)
    context = {
        "attempt": attempt,
        "played": played,
        "step": step,
        "choice": _choice_of(step, last),
        "made": last,
        "back": _back(attempt),
    }
    return render(request, "scenarios/play_feedback.html", context)


def _back(attempt: Attempt) -> str:
    """Back to the scenario in its lesson. The officer accepted the lesson's content warning (if
    it has one) to start the scenario: it is not shown again on the way back."""
    lesson = attempt.lesson
    if lesson is None or not lesson.live:
        return reverse("my_learning")
    return f"{lesson.url}?warning=accepted#scenario-{attempt.scenario_id}"
