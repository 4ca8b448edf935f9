"""The final assessment for officers: one question per page, plain HTML forms, no JavaScript.

Views are thin: courses/assessment.py decides and records everything. Someone else's attempt
is a 404; a refused request shows why and changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from courses.assessment import (
    AnswerInvalid,
    AssessmentRefused,
    assessment_allowance_for,
    assessment_answer,
    assessment_attempt_for,
    assessment_mark_shown,
    assessment_question,
    assessment_rows,
    assessment_settled_later,
    assessment_start,
    assessment_submit,
)
from courses.models import AssessmentAttempt, CoursePage


def _refused(request: HttpRequest, exc: AssessmentRefused, back: str) -> HttpResponse:
    if exc.status == 404:
        raise Http404(exc.message)
    return render(
        request, "refused.html", {"message": exc.message, "back": back}, status=exc.status
    )


def _own(request: HttpRequest, assessment_id: int) -> AssessmentAttempt:
    attempt = assessment_attempt_for(user=request.user, attempt_id=assessment_id)
    if attempt is None:
        raise Http404("No such assessment.")
    return attempt


@login_required
@require_POST
def start_view(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(CoursePage.objects.live(), pk=course_id)
    try:
        attempt = assessment_start(user=request.user, course_id=course.pk)
    except AssessmentRefused as exc:
        return _refused(request, exc, back=course.url)
    return redirect("courses:assessment", assessment_id=attempt.pk)


@login_required
@require_GET
def attempt_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    """An attempt under way resumes at its first unanswered question; a submitted one shows
    its result."""
    attempt = _own(request, assessment_id)
    if attempt.submitted_at is None:
        rows = assessment_rows(attempt=attempt)
        first = next((r.answer.position for r in rows if not r.answer.chosen), None)
        if first is None:
            return redirect("courses:assessment_check", assessment_id=attempt.pk)
        return redirect("courses:assessment_question", assessment_id=attempt.pk, position=first)
    settled_later = assessment_settled_later(attempt=attempt)
    context = {
        "attempt": attempt,
        "course": attempt.course,
        "rows": assessment_rows(attempt=attempt),
        "settled_later": settled_later,
        "allowance": None
        if attempt.passed or settled_later
        else assessment_allowance_for(attempt=attempt),
        "enrolment_complete": attempt.passed and attempt.enrolment.is_complete,
    }
    return render(request, "courses/assessment_result.html", context)


def _question_page(
    request: HttpRequest,
    attempt: AssessmentAttempt,
    position: int,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    row = assessment_question(attempt=attempt, position=position)
    if row is None:
        raise Http404("No such question.")
    if status == 200:
        assessment_mark_shown(answer=row.answer)
    context = {
        "attempt": attempt,
        "course": attempt.course,
        "row": row,
        "position": position,
        "last": position >= attempt.total,
        "from_check": request.GET.get("from") == "check" or request.POST.get("from") == "check",
        "error": error,
    }
    return render(request, "courses/assessment_question.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def question_view(request: HttpRequest, assessment_id: int, position: int) -> HttpResponse:
    attempt = _own(request, assessment_id)
    if request.method == "GET":
        if attempt.submitted_at is not None:
            return redirect("courses:assessment", assessment_id=attempt.pk)
        return _question_page(request, attempt, position)
    try:
        assessment_answer(
            user=request.user,
            attempt_id=attempt.pk,
            position=position,
            values=request.POST.getlist("answer"),
        )
    except AnswerInvalid as exc:
        return _question_page(request, attempt, position, error=exc.message, status=400)
    except AssessmentRefused as exc:
        return _refused(request, exc, back=reverse("courses:assessment", args=[attempt.pk]))
    if request.POST.get("from") == "check" or position >= attempt.total:
        return redirect("courses:assessment_check", assessment_id=attempt.pk)
    return redirect("courses:assessment_question", assessment_id=attempt.pk, position=position + 1)


@login_required
@require_GET
def check_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    """ "Check your answers": every question with the answer given, a link to change each."""
    attempt = _own(request, assessment_id)
    if attempt.submitted_at is not None:
        return redirect("courses:assessment", assessment_id=attempt.pk)
    rows = assessment_rows(attempt=attempt)
    context = {
        "attempt": attempt,
        "course": attempt.course,
        "rows": rows,
        "unanswered": [r for r in rows if not r.answer.chosen],
    }
    return render(request, "courses/assessment_check.html", context)


@login_required
@require_POST
def submit_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    attempt = _own(request, assessment_id)
    try:
        result = assessment_submit(user=request.user, attempt_id=attempt.pk)
    except AssessmentRefused as exc:
        back = reverse("courses:assessment", args=[attempt.pk])
        if exc.status == 400:
            back = reverse("courses:assessment_check", args=[attempt.pk])
        return _refused(request, exc, back=back)
    if result.course_completed:
        messages.success(
            request,
            _("You passed and have completed “%(course)s”. Well done.")
            % {"course": attempt.course.title},
        )
    return redirect("courses:assessment", assessment_id=attempt.pk)
