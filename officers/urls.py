"""Learner-facing pages of the officers app, under /account/."""

from __future__ import annotations

from django.urls import path

from officers import views

# No namespace: "officers" is the admin's (the officer profiles viewset).
urlpatterns = [
    path("profile/", views.profile_view, name="officer_profile"),
]
