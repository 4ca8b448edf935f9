"""Require two-factor authentication for training leads, authors and administrators."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from officers.roles import has_staff_role

# Paths a staff member without MFA may still use: setting it up, and signing out.
EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/")


class StaffMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.PATHWAYS_REQUIRE_STAFF_MFA
            and request.user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and has_staff_role(request.user)
            and not Authenticator.objects.filter(
                user=request.user, type=Authenticator.Type.TOTP
            ).exists()
        ):
            messages.warning(
                request,
                _(
                    "Your role needs two-factor authentication. Set up an authenticator app "
                    "to continue."
                ),
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
