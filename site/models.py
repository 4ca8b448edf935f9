"""The site's home page: what Pathways is, and the way in."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.url_routing import RouteResult

from courses import cache as content_cache


class HomePage(Page):
    intro = models.CharField(
        _("introduction"),
        max_length=400,
        help_text=_("One or two sentences under the title saying what Pathways is."),
    )
    body = RichTextField(
        _("body"), blank=True, features=["h2", "h3", "bold", "italic", "ol", "ul", "link"]
    )

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def route(self, request: HttpRequest, path_components: list[str]) -> Any:
        """Find the page a path names in one lookup by its URL path, not one child at a time.

        Wagtail's Page.route walks the tree, two queries per level (the child, then its
        specific page): ten for a lesson. The page whose `url_path` is this page's plus the
        path is the page the walk would reach; like the walk, it must be live, and pages in
        between need not be. A page type with its own `route` (sub-page routes) still gets
        the rest of the path through it: then the walk is used. The page itself usually comes
        from the shared cache (`_page_at`), with no query."""
        if not path_components:
            return super().route(request, path_components)
        url_path = self.url_path + "/".join(path_components) + "/"
        page = _page_at(url_path)
        if page is None:
            # Perhaps a page whose own route takes the rest of the path: walk as Wagtail does.
            return super().route(request, path_components)
        if type(page).route is not Page.route:
            return super().route(request, path_components)
        if not page.live:
            raise Http404
        return RouteResult(page)


def _page_at(url_path: str) -> Page | None:
    """The page with this URL path, as its most specific type: from the shared cache (until
    content changes: every publish, unpublish, move or rename saves a page, which replaces
    the content version, courses.cache), else in two queries (its type, then the page). The
    page is shared by the requests that read it, which must not change it."""
    key = hashlib.sha256(url_path.encode()).hexdigest()
    return content_cache.get_or_build(
        "page", key, lambda: Page.objects.filter(url_path=url_path).specific().first()
    )
