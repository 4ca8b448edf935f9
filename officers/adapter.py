"""allauth override point: who may sign up."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from officers.models import Invitation
from officers.rules import domain_allowed


def signup_allowed_for(email: str) -> bool:
    """Allowed domains (PATHWAYS_SIGNUP_DOMAINS) or an open invitation for this address."""
    if domain_allowed(email, settings.PATHWAYS_SIGNUP_DOMAINS):
        return True
    return Invitation.objects.filter(email__iexact=email.strip(), accepted_at__isnull=True).exists()


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        if not signup_allowed_for(email):
            domains = ", ".join(settings.PATHWAYS_SIGNUP_DOMAINS)
            raise ValidationError(
                _(
                    "Pathways is open to police email addresses only (%(domains)s). "
                    "If you need access with another address, ask your training lead "
                    "for an invitation."
                )
                % {"domains": domains}
            )
        return email
