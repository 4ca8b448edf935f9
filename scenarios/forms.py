"""Admin forms for scenarios: drafts may have problems, publishing may not."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.blocks import BlockField, StreamBlock

from scenarios import engine
from scenarios.mapping import scenario_from_values


class SoundStreamsMixin:
    """For any form: read a StreamField whose posted data Wagtail cannot read as empty.

    Wagtail reads a StreamField's `<name>-count`, each child's fields and every nested count
    (a step's choices, a question's options) unguarded: a missing or malformed one (a hand-made
    POST, never the editor) is a KeyError or ValueError, so a 500. Each StreamField is read once
    here, at any depth and any size; one that cannot be read is posted as empty instead, and
    gets its usual message (required) or is simply empty."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            return
        broken = []
        for name, field in self.fields.items():
            if not (isinstance(field, BlockField) and isinstance(field.block, StreamBlock)):
                continue
            prefix = self.add_prefix(name)
            try:
                field.widget.value_from_datadict(self.data, self.files, prefix)
            except (KeyError, ValueError, TypeError, IndexError, AttributeError):
                broken.append(prefix)
        if broken:
            self.data = self.data.copy()
            for prefix in broken:
                self.data[f"{prefix}-count"] = "0"


class ScenarioForm(SoundStreamsMixin, WagtailAdminModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        built = scenario_from_values(
            title=data.get("title") or "",
            summary=data.get("summary") or "",
            content_warning=data.get("content_warning") or "",
            pass_mark=data.get("pass_mark") or 0,
            start=data.get("start") or "",
            steps=[block.value for block in data.get("steps") or []],
        )
        self.scenario_problems = engine.validate(built)
        # Saving a draft (Wagtail defers validation then) keeps the problems for the author
        # to fix; publishing is refused until there are none.
        if self.scenario_problems and not self.is_deferred_validation:
            raise ValidationError(
                [_("This scenario cannot be published until these problems are fixed:")]
                + [str(problem) for problem in self.scenario_problems]
            )
        return data


class ScenarioImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Scenario file (.json)"),
        help_text=gettext_lazy("A pathways-scenario document (version 1 or 2), at most 1 MB."),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > engine.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 1 MB (%(size)s bytes).") % {"size": upload.size}
            )
        if not upload.name.lower().endswith(".json"):
            raise forms.ValidationError(_("Choose a .json file exported from Pathways."))
        return upload.read()


class AnalyticsFilterForm(forms.Form):
    revision = forms.TypedChoiceField(label=gettext_lazy("Version"), coerce=int, required=False)
    unit = forms.TypedChoiceField(label=gettext_lazy("Unit"), coerce=int, required=False)
    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        revisions: list[tuple[int, str]],
        units: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["revision"].choices = [("", _("All versions"))] + revisions
        self.fields["unit"].choices = [("", _("All my units"))] + units

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError(_("'From' must be on or before 'To'."))
        return data
