"""Signal receivers: session hygiene and the role groups."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import password_changed, password_reset, user_signed_up
from allauth.usersessions.models import UserSession
from django.apps import AppConfig, apps
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_migrate, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from officers.middleware import SIGNED_IN_AT
from officers.models import Invitation, User
from officers.roles import ensure_role_groups


def end_sessions(user: User, *, keep: str | None = None) -> int:
    """End every session of this user except the one with key `keep`."""
    ended = 0
    for session in UserSession.objects.filter(user_id=user.pk).exclude(session_key=keep or ""):
        session.end()
        ended += 1
    return ended


def _current_key(request: HttpRequest | None) -> str | None:
    return getattr(getattr(request, "session", None), "session_key", None)


@receiver(user_logged_in)
def remember_sign_in_time(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = time.time()


@receiver(user_logged_out)
def sign_out_everywhere(
    sender: Any, request: HttpRequest, user: User | None, **kwargs: Any
) -> None:
    # Signing out on one device signs the officer out on every device.
    if user is not None:
        end_sessions(user)


@receiver(password_reset)
def verify_address_on_password_reset(
    sender: Any, request: HttpRequest, user: User, **kwargs: Any
) -> None:
    # The reset link was emailed to this address, so using it proves the officer holds it.
    # Imported officers set their first password this way (officers.services.invite_users).
    EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)


@receiver(password_changed)
@receiver(password_reset)
def end_other_sessions_on_password(
    sender: Any, request: HttpRequest, user: User, **kwargs: Any
) -> None:
    end_sessions(user, keep=_current_key(request))


@receiver(post_save, sender=User)
def end_sessions_of_deactivated(sender: Any, instance: User, **kwargs: Any) -> None:
    if not instance.is_active:
        end_sessions(instance)


@receiver(user_signed_up)
def accept_invitation(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    Invitation.objects.filter(email__iexact=user.email, accepted_at__isnull=True).update(
        accepted_at=timezone.now()
    )


@receiver(post_migrate)
def create_role_groups(sender: AppConfig, **kwargs: Any) -> None:
    # Permissions are created app by app during post_migrate; wait for the last app so that
    # every permission the groups need exists.
    last = [c for c in apps.get_app_configs() if c.models_module is not None][-1]
    if sender.label == last.label:
        ensure_role_groups()
