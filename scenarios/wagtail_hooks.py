"""Scenarios in the Wagtail admin: a snippet with drafts, a map, import/export and analytics."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, HelpPanel, MultiFieldPanel, ObjectList
from wagtail.admin.widgets.button import Button
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from scenarios import engine
from scenarios.admin_views import AnalyticsView, ImportView, MapView, export_view
from scenarios.forms import ScenarioForm
from scenarios.models import Scenario


class ProblemsPanel(HelpPanel):
    """Lists the saved version's problems (which block publishing) and warnings (which do not)
    at the top of the editor, with a link to the map."""

    class BoundPanel(HelpPanel.BoundPanel):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            instance = self.instance
            if instance is None or instance.pk is None:
                self.content = _("Save a draft to see the scenario's map and any problems.")
                return
            built = instance.to_engine()
            problems = engine.validate(built)
            warnings = engine.author_warnings(built)
            map_url = reverse("wagtailsnippets_scenarios_scenario:map", args=[instance.pk])
            link = format_html('<a href="{}">{}</a>', map_url, _("Open the map"))
            if not problems:
                content = format_html(
                    "<p>{} {}</p>", _("No problems: this scenario can be published."), link
                )
            else:
                content = format_html(
                    '<div class="help-block help-warning"><p><strong>{}</strong> {}</p>'
                    "<ul>{}</ul></div>",
                    _("Problems to fix before publishing:"),
                    link,
                    format_html_join("", "<li>{}</li>", ((str(p),) for p in problems)),
                )
            if warnings:
                content += format_html(
                    '<div class="help-block help-info"><p><strong>{}</strong></p><ul>{}</ul></div>',
                    _("Warnings (they do not stop publishing):"),
                    format_html_join("", "<li>{}</li>", ((str(w),) for w in warnings)),
                )
            self.content = content


class ScenarioViewSet(SnippetViewSet):
    model = Scenario
    icon = "resubmit"
    menu_label = gettext_lazy("Scenarios")
    menu_order = 250
    add_to_admin_menu = True
    list_display = ["title", "live", "pass_mark"]
    search_fields = ["title"]
    edit_handler = ObjectList(
        [
            ProblemsPanel(heading=gettext_lazy("Problems")),
            MultiFieldPanel(
                [
                    # A draft may be incomplete, but never nameless: authors find it by title.
                    FieldPanel("title", required_on_save=True),
                    FieldPanel("summary"),
                    FieldPanel("content_warning"),
                    FieldPanel("pass_mark"),
                    FieldPanel("start"),
                ],
                heading=gettext_lazy("Scenario"),
            ),
            FieldPanel("steps"),
        ],
        base_form_class=ScenarioForm,
    )

    def get_urlpatterns(self) -> list[Any]:
        return [
            *super().get_urlpatterns(),
            path("import/", ImportView.as_view(), name="import"),
            path("export/<int:pk>/", export_view, name="export"),
            path("map/<int:pk>/", MapView.as_view(), name="map"),
            path("analytics/<int:pk>/", AnalyticsView.as_view(), name="analytics"),
        ]


register_snippet(ScenarioViewSet)


@hooks.register("register_snippet_listing_buttons")
def scenario_listing_buttons(snippet: Any, user: Any, next_url: str | None = None) -> list[Button]:
    if not isinstance(snippet, Scenario):
        return []
    ns = "wagtailsnippets_scenarios_scenario"
    buttons = [
        Button(_("Map"), reverse(f"{ns}:map", args=[snippet.pk]), icon_name="site", priority=30),
        Button(
            _("Analytics"),
            reverse(f"{ns}:analytics", args=[snippet.pk]),
            icon_name="view",
            priority=40,
        ),
        Button(
            _("Export"),
            reverse(f"{ns}:export", args=[snippet.pk]),
            icon_name="download",
            priority=50,
        ),
    ]
    return buttons


@hooks.register("register_admin_menu_item")
def import_menu_item() -> Any:
    from wagtail.admin.menu import MenuItem

    class ImportItem(MenuItem):
        def is_shown(self, request: HttpRequest) -> bool:
            return request.user.has_perm("scenarios.add_scenario")

    return ImportItem(
        _("Import scenario"),
        reverse("wagtailsnippets_scenarios_scenario:import"),
        icon_name="upload",
        order=260,
    )


def _warn_problems(request: HttpRequest, instance: Any) -> None:
    if isinstance(instance, Scenario):
        problems = engine.validate(instance.to_engine())
        if problems:
            messages.warning(
                request,
                _("Draft saved with %(n)s problem(s); it cannot be published until they are fixed.")
                % {"n": len(problems)},
            )


@hooks.register("after_create_snippet")
def after_create(request: HttpRequest, instance: Any) -> None:
    _warn_problems(request, instance)


@hooks.register("after_edit_snippet")
def after_edit(request: HttpRequest, instance: Any) -> None:
    _warn_problems(request, instance)
