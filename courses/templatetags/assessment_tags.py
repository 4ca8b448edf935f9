"""The course page's final-assessment section reads the officer's standing through this tag:
the page context comes from courses.selectors, which knows nothing of the assessment's detail."""

from __future__ import annotations

from typing import Any

from django import template

from courses.assessment import AssessmentStatus, assessment_status
from courses.models import CoursePage
from courses.selectors import CourseState

register = template.Library()


@register.simple_tag
def final_assessment(
    user: Any, course: CoursePage, state: CourseState | None = None
) -> AssessmentStatus | None:
    """`state`: the officer's standing in the course that the page has read already."""
    if not getattr(user, "is_authenticated", False):
        return None
    return assessment_status(user=user, course=course, state=state or None)
