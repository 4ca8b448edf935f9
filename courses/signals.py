"""The hook other apps use. Certificates listen to `course_completed`."""

from django.dispatch import Signal

# Sent once per completed enrolment, inside the transaction that records the completion,
# with `enrolment` (courses.models.Enrolment; completed_at and completed_revision are set).
course_completed = Signal()
