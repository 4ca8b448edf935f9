from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from officers.imports import MAX_SERVICE_NUMBER as SERVICE_NUMBER_MAX
from officers.imports import SERVICE_NUMBER_RE
from officers.models import Invitation, OfficerProfile, Unit, User


class UnitForm(forms.ModelForm):
    """Units form a tree (treebeard): creating or moving one goes through the tree API."""

    parent = forms.ModelChoiceField(
        queryset=Unit.objects.all(),
        required=False,
        label=_("Parent unit"),
        help_text=_("Leave empty for a force (the top of a tree)."),
    )

    class Meta:
        model = Unit
        fields = ["name", "kind"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["parent"].initial = self.instance.get_parent()
            # A unit cannot move under itself or its own descendants.
            self.fields["parent"].queryset = Unit.objects.exclude(
                path__startswith=self.instance.path
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        parent, kind = data.get("parent"), data.get("kind")
        if parent is None and kind and kind != Unit.Kind.FORCE:
            self.add_error("parent", _("Only a force can be at the top; choose a parent unit."))
        if parent is not None and kind == Unit.Kind.FORCE:
            self.add_error("kind", _("A force cannot sit inside another unit."))
        return data

    def save(self, commit: bool = True) -> Unit:
        parent = self.cleaned_data.get("parent")
        unit: Unit = self.instance
        if unit.pk is None:
            values = {"name": unit.name, "kind": unit.kind}
            unit = parent.add_child(**values) if parent else Unit.add_root(**values)
            self.instance = unit
            return unit
        unit.save()
        if parent != unit.get_parent():
            if parent is None:
                unit.move(Unit.get_last_root_node(), "last-sibling")
            else:
                unit.move(parent, "last-child")
            unit.refresh_from_db()
        return unit


class InvitationForm(forms.ModelForm):
    """An address is invited once, and never one that already has an account: email
    addresses are compared whatever their case (both tables are unique on the lower case)."""

    class Meta:
        model = Invitation
        fields = ["email"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("for_user", None)
        super().__init__(*args, **kwargs)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        others = Invitation.objects.filter(email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("This address has already been invited."))
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("This address already has an account; it needs no invitation.")
            )
        return email


class OfficerCSVForm(forms.Form):
    file = forms.FileField(
        label=_("HR file (CSV or Excel)"),
        help_text=_(
            "Columns: email, given_name, family_name, service_number, force, unit, rank, role. "
            "A .csv file in UTF-8, or an .xlsx workbook (its first sheet). You will see what "
            "the import would do before anything changes."
        ),
    )

    def clean_file(self) -> tuple[str, bytes]:
        """The upload's name and bytes: a CSV that is text, or an .xlsx workbook."""
        upload = self.cleaned_data["file"]
        if upload.size > settings.PATHWAYS_MAX_CSV_BYTES:
            limit = settings.PATHWAYS_MAX_CSV_BYTES // 1024
            raise forms.ValidationError(_("The file is larger than %(kb)s KB.") % {"kb": limit})
        name = upload.name.lower()
        if not name.endswith((".csv", ".txt", ".xlsx")):
            raise forms.ValidationError(
                _("Choose a .csv or .xlsx file exported from your HR system.")
            )
        data = upload.read()
        if name.endswith(".xlsx"):
            if not data.startswith(b"PK\x03\x04"):
                raise forms.ValidationError(_("This is not an Excel workbook (.xlsx)."))
        elif b"\x00" in data[:4096]:
            raise forms.ValidationError(_("This is not a text CSV file."))
        return upload.name, data


class OfficerImportConfirmForm(forms.Form):
    """What the person decides on the preview page."""

    action = forms.ChoiceField(
        choices=[("confirm", "confirm"), ("cancel", "cancel"), ("retry", "retry")]
    )
    deactivate_leavers = forms.BooleanField(required=False)


SERVICE_NUMBER_CHARACTERS = _(
    "Enter your service number using only letters, digits, '-' and '/', starting with a "
    "letter or digit."
)


class OfficerProfileForm(forms.Form):
    """An officer without a force says where they serve: their force, a unit under it (one
    grouped select, no JavaScript) and their service number, unique within the force.

    `save` changes the officer's profile only when every field is valid; a number another
    officer registered at the same moment is reported as taken, not raised."""

    force = forms.TypedChoiceField(
        label=_("Force"),
        coerce=int,
        help_text=_("The police force you serve in."),
        error_messages={
            "required": _("Choose your force."),
            "invalid_choice": _("Choose your force from the list."),
        },
    )
    unit = forms.TypedChoiceField(
        label=_("Unit"),
        coerce=int,
        help_text=_(
            "Your team, division or recruit intake. Units are listed under their force: "
            "choose one in the force you chose above."
        ),
        error_messages={
            "required": _("Choose your unit."),
            "invalid_choice": _("Choose your unit from the list."),
        },
    )
    service_number = forms.CharField(
        label=_("Service number"),
        max_length=SERVICE_NUMBER_MAX,
        required=False,
        help_text=_("As on your warrant card: letters, digits, '-' and '/'."),
        error_messages={
            "max_length": _("Enter a service number of at most %(limit_value)d characters."),
            "null_characters_not_allowed": SERVICE_NUMBER_CHARACTERS,
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, user: User, number_required: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        self.number_required = number_required
        units = list(Unit.objects.order_by("path").only("pk", "path", "depth", "name", "kind"))
        names = {unit.path: unit.name for unit in units}
        self.forces = {u.pk: u for u in units if u.depth == 1}
        self.units = {u.pk: u for u in units if u.depth > 1}
        step = Unit.steplen
        groups: dict[str, list[tuple[int, str]]] = {u.path: [] for u in self.forces.values()}
        for unit in self.units.values():
            # The path below the force, e.g. "North / Tayside / Dundee Response".
            below = [names[unit.path[:end]] for end in range(2 * step, len(unit.path) + 1, step)]
            groups[unit.path[:step]].append((unit.pk, " / ".join(below)))
        blank = [("", _("Choose…"))]
        self.fields["force"].choices = blank + [(f.pk, f.name) for f in self.forces.values()]
        self.fields["unit"].choices = blank + [
            (force.name, groups[force.path]) for force in self.forces.values() if groups[force.path]
        ]

    def clean_service_number(self) -> str:
        number = self.cleaned_data["service_number"]
        if not number:
            if self.number_required:
                raise forms.ValidationError(_("Enter your service number."))
            return ""
        if not SERVICE_NUMBER_RE.fullmatch(number):
            raise forms.ValidationError(SERVICE_NUMBER_CHARACTERS)
        return number

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        force = self.forces.get(data.get("force"))  # type: ignore[arg-type]
        unit = self.units.get(data.get("unit"))  # type: ignore[arg-type]
        if force is not None and unit is not None and not unit.path.startswith(force.path):
            self.add_error(
                "unit",
                _("%(unit)s is not in %(force)s. Choose a unit listed under %(force)s.")
                % {"unit": unit.name, "force": force.name},
            )
        number = data.get("service_number")
        if force is not None and number and self._number_taken(force, number):
            self.add_error("service_number", self._taken_message(force, number))
        data["force"], data["unit"] = force, unit
        return data

    def _number_taken(self, force: Unit, number: str) -> bool:
        others = OfficerProfile.objects.filter(force=force, service_number__iexact=number)
        return others.exclude(user=self.user).exists()

    @staticmethod
    def _taken_message(force: Unit, number: str) -> str:
        return _(
            "Service number %(number)s is already registered to another officer in %(force)s. "
            "Check the number; if it is yours, ask your training lead."
        ) % {"number": number, "force": force.name}

    def save(self) -> OfficerProfile | None:
        """Write the profile; None (with the error added to the form) if the number was
        taken meanwhile: the database's unique constraint decides, and nothing changes."""
        force: Unit = self.cleaned_data["force"]
        number: str = self.cleaned_data["service_number"]
        try:
            with transaction.atomic():
                profile, _created = OfficerProfile.objects.select_for_update().get_or_create(
                    user=self.user
                )
                if number and self._number_taken(force, number):
                    raise IntegrityError("service number taken")
                profile.force = force
                profile.unit = self.cleaned_data["unit"]
                profile.service_number = number
                profile.save()
        except IntegrityError:
            self.add_error("service_number", self._taken_message(force, number))
            return None
        return profile
