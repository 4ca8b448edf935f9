"""allauth override points: who may sign up, the links in allauth's emails (sent through the
outbox), and the key of the per-account sign-in failure limit."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from officers.links import absolute_url, site_domain
from officers.models import Invitation
from officers.outbox import email_queue
from officers.rules import domain_allowed


def _on_our_site(value: Any) -> Any:
    """An absolute link allauth built (to one of our pages) moved onto PATHWAYS_BASE_URL."""
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        return absolute_url(urlunsplit(("", "", parts.path, parts.query, parts.fragment)))
    return value


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

    # --- Links: allauth builds them from the request's Host header (which a client chooses, port
    # included); every link and the site's name in its emails come from PATHWAYS_BASE_URL.
    # The message is rendered here, as allauth would, then queued in the outbox instead of sent:
    # the request does not wait for the mail server, and the task worker retries a failure. Its
    # body may hold a link or code that signs someone in: `sensitive` erases it once sent.

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        context = {name: _on_our_site(value) for name, value in context.items()}
        context["current_site"] = SimpleNamespace(
            domain=site_domain(), name=settings.WAGTAIL_SITE_NAME
        )
        message = self.render_mail(
            template_prefix, email, {"request": allauth_context.request, "email": email, **context}
        )
        alternatives = getattr(message, "alternatives", [])
        html = next((body for body, kind in alternatives if kind == "text/html"), "")
        if message.content_subtype == "html":  # only an HTML template: the body is HTML
            text, html = "", message.body
        else:
            text = message.body
        for address in message.to:
            email_queue(
                to=address,
                subject=message.subject,
                body=text,
                html_body=str(html),
                from_email=message.from_email or "",
                sensitive=True,
            )

    # --- Sign-in failures: allauth keys the per-account limit on the site's domain, which
    # without django.contrib.sites is the Host header, port included; a client that changes the
    # port would get a fresh allowance. The key is the address alone.

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        login = credentials.get("email", credentials.get("username", ""))
        return f"pathways:{str(login).strip().lower()}"
