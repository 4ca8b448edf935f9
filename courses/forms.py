"""Admin forms for course pages: a lesson may be drafted with a draft scenario, not published."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from wagtail.admin.forms import WagtailAdminPageForm

from scenarios.forms import SoundStreamsMixin


class SoundStreamsPageForm(SoundStreamsMixin, WagtailAdminPageForm):
    """A page form that reads a StreamField posted without a sound count as empty."""


class LessonPageForm(SoundStreamsPageForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Wagtail defers validation when the author only saves a draft; "Publish" posts
        # `action-publish`. (Only the editor checks: a refusal raised from the model's publish
        # would break bulk and scheduled publishing with an error instead of a message.)
        publishing = bool(self.data.get("action-publish")) and not self.is_deferred_validation
        body = data.get("body")
        if publishing and body is not None:
            problems = self.instance.publish_problems(body)
            if problems:
                raise ValidationError(problems)
        return data
