"""Account middleware: session lifetimes (idle and absolute), two-factor authentication
required for training leads, authors and administrators, and the profile (force, unit,
service number) required of learners before they learn."""

from __future__ import annotations

import time
from collections.abc import Callable

from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import Group
from django.contrib.auth.views import redirect_to_login
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from officers.models import OfficerProfile, User
from officers.roles import STAFF_GROUP_NAMES, has_staff_role, staff_role_remember

SIGNED_IN_AT = "pathways_signed_in_at"
SEEN_AT = "pathways_seen_at"


class SessionLifetimeMiddleware:
    """End a session that is older than PATHWAYS_SESSION_ABSOLUTE_SECONDS, however active, and
    keep an active one alive without writing to the database on every request.

    The idle timeout is Django's own expiry (SESSION_COOKIE_AGE). Instead of saving the session
    on every request (SESSION_SAVE_EVERY_REQUEST), activity is written at most once every
    PATHWAYS_ACTIVITY_WRITE_SECONDS: the session's expiry moves on, and allauth's list of
    sessions (last seen, address, browser) is brought up to date. A session idle for
    SESSION_COOKIE_AGE less that interval may end, never one idle for less.
    The sign-in time is written to the session by officers.receivers on user_logged_in.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.get(SIGNED_IN_AT)
            if started is None:
                session[SIGNED_IN_AT] = now
            elif now - started > settings.PATHWAYS_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, _("Your session has ended. Please sign in again."))
                return redirect_to_login(request.get_full_path())
            if now - session.get(SEEN_AT, 0) >= settings.PATHWAYS_ACTIVITY_WRITE_SECONDS:
                session[SEEN_AT] = now
                if session.session_key:
                    UserSession.objects.create_from_request(request)
        return self.get_response(request)


# Paths a staff member without MFA may still use: setting it up, and signing out.
EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/")


class StaffMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not request.path.startswith(EXEMPT_PREFIXES):
            profile_of(request.user)  # with the staff role, in one query: has_staff_role reads it
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


def profile_of(user: User) -> OfficerProfile | None:
    """The user's officer profile, read once per request (with its force and unit) and kept on
    the user, so pages that read `user.officer` later make no query for it. Whether they hold
    a staff role comes in the same query and is kept for has_staff_role: every page asks both
    (the profile required of learners, the MFA required of staff)."""
    cache = User.officer.related  # the reverse one-to-one's per-instance cache
    if not cache.is_cached(user):
        staff = Group.objects.filter(user=OuterRef("user_id"), name__in=STAFF_GROUP_NAMES)
        profile = (
            OfficerProfile.objects.select_related("force", "unit")
            .filter(user_id=user.pk)
            .annotate(holds_staff_role=Exists(staff))
            .first()
        )
        cache.set_cached_value(user, profile)
        if profile is not None:
            OfficerProfile.user.field.set_cached_value(profile, user)
            staff_role_remember(user, profile.holds_staff_role)
    return cache.get_cached_value(user)


def profile_incomplete(profile: OfficerProfile | None) -> bool:
    """A learner must name their force, a unit in it and their service number."""
    return profile is None or not (profile.force_id and profile.unit_id and profile.service_number)


def must_complete_profile(user: User) -> bool:
    """Signed-in learners whose profile is incomplete; never staff, authors, administrators or
    training leads (who may sign in with no unit of their own)."""
    if not user.is_authenticated:
        return False
    profile = profile_of(user)
    if not profile_incomplete(profile):
        return False
    if has_staff_role(user):
        return False
    return profile is None or not profile.led_units.exists()


# Paths a learner with an incomplete profile may still use: allauth's account pages (signing
# out, confirming an email address, changing the password, two-factor authentication),
# static and uploaded files, health checks and public certificate verification.
PROFILE_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/", "/health/", "/certificates/verify/")


class OfficerProfileMiddleware:
    """Send a signed-in learner with no force, unit or service number to the profile page
    (`officer_profile`), with the page they asked for as a safe `next`, until they give them.
    Self sign-ups have none: this is their first stop after signing in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        profile_path = reverse("officer_profile")
        if (
            request.path != profile_path
            and not request.path.startswith(PROFILE_EXEMPT_PREFIXES)
            and must_complete_profile(request.user)
        ):
            if request.method in ("GET", "HEAD"):
                return redirect(f"{profile_path}?{urlencode({'next': request.get_full_path()})}")
            return redirect(profile_path)
        return self.get_response(request)
