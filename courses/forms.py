"""Admin forms for course pages: a lesson may be drafted with a draft scenario, not published."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.blocks import BlockField, StreamBlock


def stream_count_is_sound(data: Any, prefix: str, limit: int = 100) -> bool:
    """Whether a posted StreamField's `<prefix>-count` is a small number and every child it
    counts was sent (as Wagtail's form widget always does)."""
    raw = data.get(f"{prefix}-count")
    if raw is None or not str(raw).isdigit() or int(raw) > limit:
        return False
    return all(
        f"{prefix}-{i}-deleted" in data and f"{prefix}-{i}-type" in data for i in range(int(raw))
    )


class SoundStreamsPageForm(WagtailAdminPageForm):
    """A page form that treats a StreamField posted without a sound count as empty.

    Wagtail's StreamBlock reads `<name>-count` and each child's fields unguarded: a missing or
    malformed count, or one naming children that were not sent (a hand-made POST, never the
    editor), is a KeyError or ValueError, so a 500. Empty, the field gets its usual message
    (required) or is simply empty."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            return
        broken = [
            self.add_prefix(name)
            for name, field in self.fields.items()
            if isinstance(field, BlockField)
            and isinstance(field.block, StreamBlock)
            and not stream_count_is_sound(self.data, self.add_prefix(name))
        ]
        if broken:
            self.data = self.data.copy()
            for prefix in broken:
                self.data[f"{prefix}-count"] = "0"


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
