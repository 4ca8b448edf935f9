"""Keep assignments in step with officers' units and progress."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from courses.assignments import officer_placed, progress_changed
from courses.models import Enrolment
from courses.signals import course_completed
from officers.models import OfficerProfile


@receiver(post_save, sender=OfficerProfile)
def apply_unit_rules(sender: Any, instance: OfficerProfile, **kwargs: Any) -> None:
    officer_placed(instance)


@receiver(post_save, sender=Enrolment)
def enrolment_started(sender: Any, instance: Enrolment, created: bool, **kwargs: Any) -> None:
    if created:
        progress_changed(user_id=instance.user_id, course_id=instance.course_id)


@receiver(course_completed)
def assignment_completed(sender: Any, enrolment: Enrolment, **kwargs: Any) -> None:
    progress_changed(user_id=enrolment.user_id, course_id=enrolment.course_id)
