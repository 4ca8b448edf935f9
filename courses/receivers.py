"""Keeps lesson estimates right when a scenario they place is published again."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from wagtail.signals import published

from courses.models import LessonPage
from scenarios.models import Scenario


@receiver(published, sender=Scenario)
def lesson_minutes_follow_scenario(
    sender: type[Scenario], instance: Scenario, **kwargs: Any
) -> None:
    """A lesson's minutes count its scenarios' decisions: recompute them for the lessons that
    place this scenario (without a new page revision: the lesson's content did not change)."""
    placing = [
        pk
        for pk, ids in LessonPage.objects.values_list("pk", "scenario_ids")
        if instance.pk in (ids or ())
    ]
    for lesson in LessonPage.objects.filter(pk__in=placing):
        minutes = lesson.estimated_minutes()
        if minutes != lesson.duration_minutes:
            LessonPage.objects.filter(pk=lesson.pk).update(duration_minutes=minutes)
