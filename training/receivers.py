"""Keep assignments in step with officers' units, their progress and their certificates; remove
an export file's stored file with its record."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from certificates.models import Certificate
from certificates.signals import certificate_revoked
from courses.models import Enrolment
from courses.signals import course_completed
from officers.models import OfficerProfile
from officers.signals import officers_placed
from training.assignments import (
    assignment_reopen,
    officer_placed,
    officer_placed_many,
    progress_changed,
)
from training.models import ExportFile

logger = logging.getLogger(__name__)


@receiver(post_save, sender=OfficerProfile)
def apply_unit_rules(sender: Any, instance: OfficerProfile, **kwargs: Any) -> None:
    officer_placed(instance)


@receiver(officers_placed)
def apply_unit_rules_in_bulk(sender: Any, profile_ids: list[int], **kwargs: Any) -> None:
    officer_placed_many(profile_ids)


@receiver(post_save, sender=Enrolment)
def enrolment_started(sender: Any, instance: Enrolment, created: bool, **kwargs: Any) -> None:
    if created:
        progress_changed(user_id=instance.user_id, course_id=instance.course_id)


@receiver(course_completed)
def assignment_completed(sender: Any, enrolment: Enrolment, **kwargs: Any) -> None:
    progress_changed(user_id=enrolment.user_id, course_id=enrolment.course_id)


@receiver(certificate_revoked)
def certificate_withdrawn(sender: Any, certificate: Certificate, **kwargs: Any) -> None:
    assignment_reopen(user_id=certificate.user_id, course_id=certificate.course_id)


@receiver(post_delete, sender=ExportFile)
def export_file_deleted(sender: Any, instance: ExportFile, **kwargs: Any) -> None:
    """The stored file goes with its record: when it expires, and when its owner's account is
    deleted (the records cascade). Once the deletion commits: a deletion rolled back keeps
    its file."""
    if not instance.file:
        return
    name, storage = instance.file.name, instance.file.storage

    def delete_file() -> None:
        try:
            storage.delete(name)
        except Exception:  # storage unavailable (S3): the record went; log the file to remove
            logger.exception("Export file %s could not be deleted from storage", name)

    transaction.on_commit(delete_file)
