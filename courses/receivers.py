"""Keeps lesson estimates right when a scenario they place is published again, and the shared
cache of published content (courses.cache) in step with every change to it."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import PageViewRestriction, Site, get_page_models
from wagtail.signals import post_page_move, published

from courses.cache import content_changed
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
    changed = False
    for lesson in LessonPage.objects.filter(pk__in=placing):
        minutes = lesson.estimated_minutes()
        if minutes != lesson.duration_minutes:
            LessonPage.objects.filter(pk=lesson.pk).update(duration_minutes=minutes)
            changed = True
    if changed:
        content_changed()  # an update() sends no post_save: the outlines show the minutes


# --- The shared content cache ------------------------------------------------------------------

# Fields that a save of a draft, a lock or an unlock writes: none of them is shown to learners,
# so such a save keeps what is cached (an author saving drafts does not empty it each time).
DRAFT_ONLY_FIELDS = frozenset(
    {
        "latest_revision",
        "latest_revision_id",
        "latest_revision_created_at",
        "draft_title",
        "has_unpublished_changes",
        "wagtail_admin_comments",
        "locked",
        "locked_at",
        "locked_by",
        "locked_by_id",
    }
)


def content_saved(sender: type, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """Publishing, unpublishing, renaming or moving a page (each saves it), and any save of a
    site, view restriction, scenario, image or document."""
    if update_fields and set(update_fields) <= DRAFT_ONLY_FIELDS:
        return
    content_changed()


def content_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    content_changed()


def page_moved(sender: type, **kwargs: Any) -> None:
    content_changed()


def connect_content_cache() -> None:
    """Every model the cached content is read from (LocalInformation is not: each officer's
    force-local text is read for each request, never cached)."""
    models = [
        *get_page_models(),
        Site,
        PageViewRestriction,
        Scenario,
        get_image_model(),
        get_document_model(),
    ]
    for model in dict.fromkeys(models):
        post_save.connect(content_saved, sender=model, dispatch_uid=f"content_saved_{model}")
        post_delete.connect(content_deleted, sender=model, dispatch_uid=f"content_del_{model}")
    post_page_move.connect(page_moved, dispatch_uid="content_page_moved")
