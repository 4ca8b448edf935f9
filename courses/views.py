"""Learner views that are not Wagtail pages: My learning, completion, continue, search."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from courses.models import Assignment, CoursePage, LessonPage, Reminder
from courses.selectors import course_state, my_learning
from courses.services import CompletionRefused, enrolment_start, lesson_mark_complete


def refused(request: HttpRequest, exc: CompletionRefused, back: str | None = None) -> HttpResponse:
    return render(
        request,
        "courses/refused.html",
        {"message": exc.message, "back": back or "/learning/"},
        status=exc.status,
    )


@login_required
@require_GET
def my_learning_view(request: HttpRequest) -> HttpResponse:
    from certificates.selectors import own_certificates

    context = my_learning(request.user)
    context["certificates"] = own_certificates(request.user)
    today = timezone.localdate()
    context["assigned"] = [
        {"assignment": a, "overdue": a.due_on < today}
        for a in Assignment.objects.filter(
            user=request.user, current=True, completed_at__isnull=True, course__live=True
        )
        .select_related("course")
        .order_by("due_on")
    ]
    context["reminders"] = Reminder.objects.filter(user=request.user).order_by("-sent_at")[:10]
    context["available"] = CoursePage.objects.live().exclude(pk__in=list(context["latest"]))
    return render(request, "courses/my_learning.html", context)


@login_required
@require_POST
def lesson_complete_view(request: HttpRequest, lesson_id: int) -> HttpResponse:
    try:
        result = lesson_mark_complete(user=request.user, lesson_id=lesson_id)
    except CompletionRefused as exc:
        lesson = LessonPage.objects.live().filter(pk=lesson_id).first()
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
def course_continue_view(request: HttpRequest, course_id: int) -> HttpResponse:
    """Go to the first unfinished lesson of the course (or the course page when done)."""
    course = get_object_or_404(CoursePage.objects.live(), pk=course_id)
    state = course_state(request.user, course)
    if state.is_complete or state.progress.next_lesson_id is None:
        return redirect(course.url)
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


@login_required
@require_GET
def search_view(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    results = LessonPage.objects.live().search(query) if query else LessonPage.objects.none()
    page = Paginator(results, 10).get_page(request.GET.get("page"))
    return render(request, "courses/search.html", {"query": query, "results": page})
