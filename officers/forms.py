from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from officers.models import Invitation, Unit, User


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
        label=_("CSV file"),
        help_text=_(
            "Columns: email, given_name, family_name, service_number, force, unit, rank, role. "
            "UTF-8. All rows are imported, or none."
        ),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > settings.PATHWAYS_MAX_CSV_BYTES:
            limit = settings.PATHWAYS_MAX_CSV_BYTES // 1024
            raise forms.ValidationError(_("The file is larger than %(kb)s KB.") % {"kb": limit})
        name = upload.name.lower()
        if not name.endswith((".csv", ".txt")):
            raise forms.ValidationError(_("Choose a .csv file exported from your HR system."))
        data = upload.read()
        if b"\x00" in data[:4096]:
            raise forms.ValidationError(_("This is not a text CSV file."))
        return data
