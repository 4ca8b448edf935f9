"""Writes for accounts and organisation: units and invitations (the import: officers.imports)."""

from __future__ import annotations

from collections.abc import Iterable

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from officers.links import absolute_url
from officers.models import Invitation, Unit, User
from officers.outbox import email_queue

# --------------------------------------------------------------------------- units


def unit_get_or_create_path(*, force: Unit, names: Iterable[str]) -> tuple[Unit, list[Unit]]:
    """The unit at `force / names...`, creating missing levels (divisions, then a team)."""
    node = force
    created: list[Unit] = []
    names = list(names)
    for depth, name in enumerate(names, start=1):
        child = node.get_children().filter(name__iexact=name).first()
        if child is None:
            kind = Unit.Kind.TEAM if depth == len(names) else Unit.Kind.DIVISION
            child = node.add_child(name=name, kind=kind)
            created.append(child)
        node = child
    return node, created


def invitation_url(user: User) -> str:
    """A link to allauth's set-password page, valid until the user sets a password."""
    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
    )
    return absolute_url(path)


def invite_users(users: Iterable[User]) -> int:
    """Queue for each user an email with a link to set their password (once per user: the
    outbox key). Returns the number of emails queued."""
    queued = 0
    for user in users:
        context = {"user": user, "url": invitation_url(user)}
        email_queue(
            to=user.email,
            subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}You have been invited to Pathways",
            body=render_to_string("officers/email/invitation.txt", context),
            key=f"account-invitation:{user.pk}",
            sensitive=True,  # the link sets the password
        )
        queued += 1
    return queued


def invitation_send(invitation: Invitation) -> None:
    """Queue the email that gives an invited address the link to sign up (once per
    invitation)."""
    context = {
        "invitation": invitation,
        "url": absolute_url(reverse("account_signup")),
    }
    email_queue(
        to=invitation.email,
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}You are invited to Pathways",
        body=render_to_string("officers/email/signup_invitation.txt", context),
        key=f"signup-invitation:{invitation.pk}",
    )
