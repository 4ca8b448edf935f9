"""A fixed-window rate limit in Django's cache (shared by every process when it is Redis)."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address as allauth sees it (honours PATHWAYS_TRUSTED_PROXY_COUNT)."""
    from allauth.account.adapter import get_adapter

    return get_adapter().get_client_ip(request) or "unknown"


def allow(request: HttpRequest, *, action: str, per_minute: int) -> bool:
    """Count this request; False once the client has made `per_minute` in this minute."""
    window = int(time.time() // 60)
    key = f"pathways:rl:{action}:{client_ip(request)}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count <= per_minute
