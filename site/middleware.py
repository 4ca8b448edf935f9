"""Site-wide response headers, and the Wagtail site of a request from the shared cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from csp.constants import SELF
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port
from wagtail.models import Site

from courses import cache as content_cache

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


# Paths that never look for the Wagtail site (the health check must not need the cache).
NO_SITE_PREFIXES = ("/health/", "/static/", "/media/")


class CachedSiteMiddleware:
    """Find the request's Wagtail site (with its home page) in the shared cache instead of the
    database, where every page view and every page link looks for it (two queries). Wagtail
    keeps the site of a request in `request._wagtail_site` (Site.find_for_request): this fills
    it in from the sites kept, choosing among them as Wagtail does. It never reads the
    database itself: when no sites are kept, Wagtail looks as usual, and if it did, every
    site is kept for the next requests. Off with the content cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not content_cache.enabled() or request.path.startswith(NO_SITE_PREFIXES):
            return self.get_response(request)
        with content_cache.request_scope():  # the content version is read once per request
            return self._with_site(request)

    def _with_site(self, request: HttpRequest) -> HttpResponse:
        sites = content_cache.get_kept("sites", "all")
        if sites is not None:
            hostname = split_domain_port(request._get_raw_host())[0]
            port = request.get_port()
            request._wagtail_site = site_for(sites, hostname, int(port) if port.isdigit() else 0)
        response = self.get_response(request)
        if sites is None and hasattr(request, "_wagtail_site"):
            content_cache.get_or_build("sites", "all", all_sites)
        return response


def all_sites() -> tuple[Site, ...]:
    """Every site, each with its root page as its most specific type (what routing uses)."""
    sites = tuple(Site.objects.select_related("root_page"))
    for site in sites:
        site.root_page.specific  # noqa: B018 - read now, so that it is kept with the site
    return sites


def site_for(sites: Sequence[Site], hostname: str, port: int) -> Site | None:
    """The site for a host name and port, chosen as wagtail.models.sites.get_site_for_hostname
    chooses it: the host name and port, else the host name on the default site, else the
    default site, else the only site with the host name."""

    def match(site: Site) -> int:
        if site.hostname == hostname:
            return 0 if site.port == port else 1 if site.is_default_site else 3
        return 2  # the default site (the only other kind kept below)

    candidates = sorted(
        (site for site in sites if site.hostname == hostname or site.is_default_site), key=match
    )
    if not candidates:
        return None
    best = match(candidates[0])
    if len(candidates) == 1 or best in (0, 1):
        return candidates[0]
    if best == 2:
        # A default site on another host: one site with this host name is better; several
        # are ambiguous, and the default is used.
        return candidates[len(candidates) == 2]
    return None
