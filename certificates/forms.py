from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from certificates.services import MAX_REASON


class VerifyForm(forms.Form):
    number = forms.CharField(
        label=_("Certificate number"),
        max_length=20,
        help_text=_("As printed on the certificate, e.g. PW-2026-004213."),
    )
    code = forms.CharField(
        label=_("Verification code"),
        max_length=32,
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
