"""Admin forms for training leads."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courses.models import CoursePage
from officers.models import OfficerProfile, User
from officers.selectors import officers_visible_to, units_visible_to


class AssignForm(forms.Form):
    course = forms.ModelChoiceField(
        label=gettext_lazy("Course"), queryset=CoursePage.objects.live().order_by("title")
    )
    target = forms.ChoiceField(
        label=gettext_lazy("Assign to"),
        choices=[
            ("unit", gettext_lazy("A unit or recruit intake (and everything under it)")),
            ("officers", gettext_lazy("Named officers")),
        ],
        widget=forms.RadioSelect,
        initial="unit",
    )
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit or intake"), queryset=None, required=False
    )
    officers = forms.CharField(
        label=gettext_lazy("Officers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Email addresses or service numbers, one per line."),
    )
    due = forms.ChoiceField(
        label=gettext_lazy("Due"),
        choices=[
            ("date", gettext_lazy("On a date")),
            ("days", gettext_lazy("A number of days after each officer is assigned")),
        ],
        widget=forms.RadioSelect,
        initial="date",
    )
    due_date = forms.DateField(
        label=gettext_lazy("Due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    due_days = forms.IntegerField(
        label=gettext_lazy("Days"), required=False, min_value=1, max_value=730
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["unit"].queryset = units_visible_to(user).order_by("path")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("target") == "unit":
            if not data.get("unit"):
                self.add_error("unit", _("Choose the unit or intake."))
            data["officer_users"] = []
        else:
            data["unit"] = None
            data["officer_users"] = self._officers(data.get("officers") or "")
        if data.get("due") == "date":
            if not data.get("due_date"):
                self.add_error("due_date", _("Give the due date."))
            elif data["due_date"] < timezone.localdate():
                self.add_error("due_date", _("The due date is in the past."))
            data["due_days"] = None
        else:
            if not data.get("due_days"):
                self.add_error("due_days", _("Give the number of days."))
            data["due_date"] = None
        return data

    def _officers(self, text: str) -> list[User]:
        entries = [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]
        if not entries:
            self.add_error("officers", _("List at least one officer."))
            return []
        visible = officers_visible_to(self.user)
        found: list[User] = []
        unknown: list[str] = []
        for entry in entries:
            profile: OfficerProfile | None
            try:
                validate_email(entry)
                profile = visible.filter(user__email__iexact=entry).first()
            except forms.ValidationError:
                matches = list(visible.filter(service_number__iexact=entry)[:2])
                profile = matches[0] if len(matches) == 1 else None
            if profile is None:
                unknown.append(entry)
            elif profile.user not in found:
                found.append(profile.user)
        if unknown:
            self.add_error(
                "officers",
                _("Not found in the units you lead: %(list)s") % {"list": ", ".join(unknown)},
            )
        return found
