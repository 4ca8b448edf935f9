"""The scenario player: one step per page, no JavaScript needed, the server decides."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from officers.params import parse_id
from scenarios import engine
from scenarios.models import Attempt, engine_for_revision
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


def _path(played: engine.Scenario, attempt: Attempt) -> list[dict[str, object]]:
    rows = []
    for made in attempt.choices.all():
        step = played.step(made.step)
        choice = step.choices[made.choice_index]
        rows.append({"step": step, "choice": choice, "made": made})
    return rows


@login_required
@require_GET
def attempt_view(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _own_attempt(request, attempt_id)
    played = engine_for_revision(attempt.revision)
    context = {"attempt": attempt, "played": played, "back": _back(attempt)}
    if attempt.is_finished:
        context["ending"] = played.step(attempt.current_step)
        context["path"] = _path(played, attempt)
        context["result"] = engine.result(
            played, engine.replay(played, [(c.step, c.choice_index) for c in attempt.choices.all()])
        )
        return render(request, "scenarios/play_result.html", context)
    context["step"] = played.step(attempt.current_step)
    context["number"] = attempt.choices.count() + 1
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
                "step": played.step(attempt.current_step),
                "number": attempt.choices.count() + 1,
                "error": exc.message,
                "back": _back(attempt),
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
        "choice": step.choices[last.choice_index],
        "made": last,
        "back": _back(attempt),
    }
    return render(request, "scenarios/play_feedback.html", context)


def _back(attempt: Attempt) -> str:
    lesson = attempt.lesson
    return lesson.url if lesson is not None and lesson.live else reverse("my_learning")
