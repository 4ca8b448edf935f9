"""Learner views that are not Wagtail pages: checks, completion, continue, start again, search."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from courses.models import CoursePage, LessonPage
from courses.selectors import (
    CHECK_ERROR_KEY,
    PRACTICE_KEY,
    course_state,
    courses_open_to,
    lessons_open_to,
)
from courses.services import (
    CheckRefused,
    CompletionRefused,
    check_answer_record,
    enrolment_start,
    lesson_live_in_course,
    lesson_mark_complete,
)
from officers.roles import has_staff_role


def refused(request: HttpRequest, exc: CompletionRefused, back: str | None = None) -> HttpResponse:
    return render(
        request,
        "refused.html",
        {"message": exc.message, "back": back or reverse("my_learning")},
        status=exc.status,
    )


@login_required
@require_POST
def lesson_complete_view(request: HttpRequest, lesson_id: int) -> HttpResponse:
    try:
        result = lesson_mark_complete(user=request.user, lesson_id=lesson_id)
    except CompletionRefused as exc:
        lesson = LessonPage.objects.live().filter(pk=lesson_id).first()
        placed = lesson_live_in_course(lesson_id, user=request.user) if exc.already_done else None
        if placed is not None:
            # A second press, or "complete and continue" after a scenario: go on.
            messages.info(request, exc.message)
            return redirect("courses:continue", course_id=placed[1].pk)
        if lesson is not None and exc.back_to_lesson:
            # Unfinished checks or scenario: the officer can put it right on the lesson (also
            # when they came from a scenario's result page).
            messages.error(request, exc.message)
            return redirect(_lesson_url(lesson))
        return refused(request, exc, back=lesson.url if lesson else None)
    if result.course_completed:
        messages.success(
            request,
            _("You have completed “%(course)s”. Well done.") % {"course": result.course.title},
        )
        return redirect(result.course.url)
    messages.success(request, _("Lesson marked complete."))
    return redirect("courses:continue", course_id=result.course.pk)


@login_required
@require_GET
def lesson_view_as_view(request: HttpRequest, lesson_id: int, mode: str) -> HttpResponse:
    """A lesson as an officer in a jurisdiction sees it ("view as"), for staff: authors and
    training leads, who may not edit pages and so cannot use Wagtail's preview. Read-only:
    nothing is recorded, and the check questions cannot be answered."""
    if not has_staff_role(request.user):
        raise Http404("No such page.")
    lesson = get_object_or_404(LessonPage.objects.live(), pk=lesson_id)
    if mode not in dict(lesson.preview_modes):
        raise Http404("No such view.")
    request.is_preview = True
    request.preview_mode = mode
    response = lesson.serve_preview(request, mode)
    patch_cache_control(response, private=True)
    return response


@login_required
@require_GET
def course_continue_view(request: HttpRequest, course_id: int) -> HttpResponse:
    """Go to the first unfinished lesson of the course (or the course page when done)."""
    course = get_object_or_404(
        courses_open_to(request.user, CoursePage.objects.live()), pk=course_id
    )
    state = course_state(request.user, course)
    if state.outline.jurisdiction_unknown:
        return redirect(course.url)  # which says why the officer cannot complete it
    if state.is_complete or state.progress.next_lesson_id is None:
        # Every lesson done but the final assessment still to pass: go straight to it.
        waiting = state.progress.complete and state.outline.assessment and not state.is_complete
        return redirect(course.url + ("#final-assessment" if waiting else ""))
    lesson = LessonPage.objects.live().get(pk=state.progress.next_lesson_id)
    return redirect(lesson.url)


@login_required
@require_POST
def course_start_view(request: HttpRequest, course_id: int) -> HttpResponse:
    try:
        enrolment = enrolment_start(user=request.user, course_id=course_id)
    except CompletionRefused as exc:
        return refused(request, exc)
    messages.success(request, _("Course started."))
    return redirect("courses:continue", course_id=enrolment.course_id)


# A search term: a run of letters and digits (in any script). Hyphens, quotes and the like
# are query syntax to the search backends: "near-fatal" is searched as "near fatal".
SEARCH_WORD = re.compile(r"\w+")


@login_required
@require_GET
def search_view(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    # The search backend reads some characters as query syntax (an unbalanced double quote
    # was a database error): search for the words alone.
    words = " ".join(SEARCH_WORD.findall(query))
    # Only the lessons of the officer's own outlines: never another jurisdiction's.
    lessons = LessonPage.objects.live().filter(pk__in=lessons_open_to(request.user))
    results = lessons.search(words) if words else LessonPage.objects.none()
    page = Paginator(results, 10).get_page(request.GET.get("page"))
    return render(request, "courses/search.html", {"query": query, "results": page})


def _lesson_url(lesson: LessonPage, anchor: str = "") -> str:
    """The lesson's address, past its content warning (the officer has already accepted it to
    reach the page they came from)."""
    query = "?warning=accepted" if lesson.content_warning() is not None else ""
    return f"{lesson.url}{query}{'#' + anchor if anchor else ''}"


@login_required
@require_POST
def lesson_check_view(request: HttpRequest, lesson_id: int) -> HttpResponse:
    """Check an answer to a lesson's question (Post/Redirect/Get): back to the question, where
    the lesson page shows the feedback on the latest answer, or what was wrong with this one."""
    question_id = request.POST.get("question", "")[:64]
    try:
        result = check_answer_record(
            user=request.user,
            lesson_id=lesson_id,
            question_id=question_id,
            chosen=[value[:64] for value in request.POST.getlist("chosen")[:20]],
        )
    except CheckRefused as exc:
        found = lesson_live_in_course(lesson_id, user=request.user)
        if found is None:
            return refused(request, CompletionRefused(exc.message, status=exc.status))
        request.session[CHECK_ERROR_KEY] = {"question": exc.question, "message": exc.message}
        anchor = f"block-{exc.question}" if exc.question else "check-error-summary"
        return redirect(_lesson_url(found[0], anchor))
    if not result.recorded:
        request.session[PRACTICE_KEY] = {"question": result.question, "chosen": result.chosen}
        messages.info(
            request,
            _(
                "You have completed this course, so this answer was checked but not recorded. "
                "Start the course again from the course page for a refresher that counts."
            ),
        )
    return redirect(_lesson_url(result.lesson, f"block-{result.question}"))
