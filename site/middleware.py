"""Site-wide response headers."""

from __future__ import annotations

from collections.abc import Callable

from csp.constants import SELF
from django.http import HttpRequest, HttpResponse

# Wagtail's previews (pages, snippets such as scenarios, StreamField blocks) are shown inside
# an iframe of the admin itself. Everything else may not be framed at all.
PREVIEW_URL_NAMES = frozenset({"preview_on_add", "preview_on_edit", "wagtailadmin_block_preview"})


class PreviewFramingMiddleware:
    """Let the admin frame its own previews: `frame-ancestors 'self'` and
    `X-Frame-Options: SAMEORIGIN` on preview responses instead of `'none'` and `DENY`, which
    left the preview panel blank. Sits after CSPMiddleware and XFrameOptionsMiddleware in
    MIDDLEWARE so that it sees the response first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        if (
            match is not None
            and match.url_name in PREVIEW_URL_NAMES
            and request.path.startswith("/admin/")
        ):
            # Wagtail renders a preview by running the whole middleware stack again on a
            # made-up request, so the response may already carry the strict policy: drop it
            # and let django-csp write it again with this one change.
            if "Content-Security-Policy" in response:
                del response["Content-Security-Policy"]
            response._csp_replace = {"frame-ancestors": [SELF]}  # read by django-csp
            response["X-Frame-Options"] = "SAMEORIGIN"
        return response
