"""Jurisdictions: whose law and schemes apply to an officer, and a field for "which of them".

Scotland and England & Wales have different law and different schemes (Recorded Police
Warnings in one, community resolutions and diversion in the other); Northern Ireland has room
here for later. An officer's jurisdiction is their force's (`Unit.jurisdiction` on the force;
every unit below inherits it). Content says which jurisdictions it is for with a
`JurisdictionsField`: an empty list means all of them. Which content applies to whom is decided
in one place, `courses.rules`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Jurisdiction(models.TextChoices):
    SCOTLAND = "scotland", _("Scotland")
    ENGLAND_WALES = "england_wales", _("England and Wales")
    NORTHERN_IRELAND = "northern_ireland", _("Northern Ireland")


CODES = frozenset(Jurisdiction.values)


class JurisdictionsFormField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        kwargs.pop("max_length", None)
        kwargs["choices"] = Jurisdiction.choices
        kwargs["required"] = False
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return list(value or [])


class JurisdictionsField(models.JSONField):
    """A list of jurisdiction codes, in a fixed order; empty means every jurisdiction."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs: Any) -> Any:
        return JurisdictionsFormField(label=self.verbose_name, help_text=self.help_text)

    def validate(self, value: Any, model_instance: Any) -> None:
        super().validate(value, model_instance)
        if not isinstance(value, list) or not set(value) <= CODES:
            raise ValidationError(_("Choose jurisdictions from the list."), code="invalid")

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple | set):
            value = [code for code in Jurisdiction.values if code in set(value)]
        return super().get_prep_value(value)


def audience_includes(audience: Iterable[str] | None, jurisdiction: str | None) -> bool:
    """Whether content with this audience is for officers of `jurisdiction`. An empty audience
    is for everyone; an officer whose jurisdiction is unknown (None) gets only that.

    The primitive under `courses.rules` (which builds each officer's outline from it); here so
    that the scenario player, below courses, refuses the same scenarios."""
    codes = tuple(audience or ())
    return not codes or (jurisdiction is not None and jurisdiction in codes)


def jurisdictions_label(codes: list[str] | tuple[str, ...]) -> str:
    """ "All jurisdictions", or their names joined: for authors' listings and certificates."""
    if not codes or set(codes) >= CODES:
        return str(_("All jurisdictions"))
    return ", ".join(str(Jurisdiction(code).label) for code in Jurisdiction.values if code in codes)
