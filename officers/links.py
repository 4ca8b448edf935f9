"""Absolute links for emails, PDFs and QR codes."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` on the site's public address (PATHWAYS_BASE_URL), never on the request's `Host`
    header, which a client chooses (a port, or another allowed name)."""
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def site_domain() -> str:
    """The host (and port, if any) of PATHWAYS_BASE_URL."""
    return urlsplit(settings.WAGTAILADMIN_BASE_URL).netloc
