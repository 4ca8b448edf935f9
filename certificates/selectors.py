"""Reads for certificates, scoped to who is asking."""

from __future__ import annotations

from django.db.models import QuerySet

from certificates.models import Certificate
from officers.models import User
from officers.selectors import units_visible_to


def certificates_visible_to(user: User) -> QuerySet[Certificate]:
    """An officer's own certificates; a lead's units' officers'; everything for admins."""
    certificates = Certificate.objects.select_related("user", "course")
    if user.is_superuser:
        return certificates
    units = units_visible_to(user)
    return certificates.filter(user__officer__unit__in=units) | certificates.filter(user=user)


def own_certificates(user: User) -> QuerySet[Certificate]:
    return Certificate.objects.filter(user=user).order_by("-issued_at")
