"""The learner's "My learning" page: courses, assignments, certificates and reminders."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from training.selectors import my_learning


@login_required
@require_GET
def my_learning_view(request: HttpRequest) -> HttpResponse:
    return render(request, "training/my_learning.html", my_learning(request.user))
