from __future__ import annotations

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from certificates.models import Certificate
from certificates.services import MAX_REASON


def has_control_characters(text: str) -> bool:
    """True if `text` holds a control character (NUL, tab, line break...). No certificate
    number or code does, and PostgreSQL cannot even compare text holding NUL."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def validate_as_printed(value: str) -> None:
    if has_control_characters(value):
        raise ValidationError(
            _(
                "Type this as printed on the certificate: it cannot contain control "
                "characters such as tabs or line breaks."
            ),
            code="control_characters",
        )


def _column_length(name: str) -> int:
    return Certificate._meta.get_field(name).max_length


class VerifyForm(forms.Form):
    number = forms.CharField(
        label=_("Certificate number"),
        max_length=_column_length("number"),
        validators=[validate_as_printed],
        help_text=_("As printed on the certificate, e.g. PW-2026-004213."),
    )
    code = forms.CharField(
        label=_("Verification code"),
        max_length=_column_length("code"),
        validators=[validate_as_printed],
        help_text=_("The code printed under the QR code."),
    )

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip().upper()

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MAX_REASON,
        help_text=_("Recorded in the audit log and shown to administrators."),
    )
