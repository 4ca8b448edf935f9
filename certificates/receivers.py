from typing import Any

from django.dispatch import receiver

from certificates.services import certificate_issue
from courses.signals import course_completed


@receiver(course_completed)
def issue_certificate(sender: Any, enrolment: Any, **kwargs: Any) -> None:
    certificate_issue(enrolment=enrolment)
