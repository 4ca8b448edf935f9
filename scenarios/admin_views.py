"""Admin views for scenarios: import, export, map and analytics."""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from officers.selectors import units_visible_to
from scenarios import engine
from scenarios.diagram import scenario_map
from scenarios.forms import AnalyticsFilterForm, ScenarioImportForm
from scenarios.models import Attempt, Scenario, engine_for_revision
from scenarios.selectors import step_statistics
from scenarios.services import scenario_export, scenario_import


def _edit_url(scenario: Scenario) -> str:
    from django.urls import reverse

    return reverse("wagtailsnippets_scenarios_scenario:edit", args=[scenario.pk])


class ScenarioAdminMixin(WagtailAdminTemplateMixin):
    permission: str = "scenarios.change_scenario"
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        from django.urls import reverse

        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtailsnippets_scenarios_scenario:list"), "label": _("Scenarios")},
            {"url": "", "label": self.get_page_title()},
        ]


class ImportView(ScenarioAdminMixin, FormView):
    permission = "scenarios.add_scenario"
    form_class = ScenarioImportForm
    template_name = "scenarios/admin/import.html"
    page_title = gettext_lazy("Import a scenario")
    header_icon = "upload"

    def form_valid(self, form: ScenarioImportForm) -> HttpResponse:
        try:
            scenario = scenario_import(raw=form.cleaned_data["file"], user=self.request.user)
        except engine.ScenarioInvalid as exc:
            messages.error(self.request, _("Nothing was imported."))
            context = self.get_context_data(form=form, problems=exc.problems)
            return self.render_to_response(context, status=400)
        messages.success(
            self.request,
            _("Imported “%(title)s” as a draft. Check it, then publish.") % {"title": scenario},
        )
        return redirect(_edit_url(scenario))


def export_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("scenarios.change_scenario"):
        raise PermissionDenied
    scenario = get_object_or_404(Scenario, pk=pk)
    live = request.GET.get("version") != "draft"
    document = scenario_export(scenario, live=live)
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n",
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="scenario-{scenario.pk}.json"'
    return response


class MapView(ScenarioAdminMixin, TemplateView):
    template_name = "scenarios/admin/map.html"
    page_title = gettext_lazy("Scenario map")
    header_icon = "site"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        scenario = get_object_or_404(Scenario, pk=self.kwargs["pk"])
        latest = scenario.latest_revision.as_object() if scenario.latest_revision else scenario
        built = latest.to_engine()
        context.update(
            scenario=scenario,
            map=scenario_map(built),
            report=engine.analyse(built),
            edit_url=_edit_url(scenario),
        )
        return context


class AnalyticsView(ScenarioAdminMixin, TemplateView):
    permission = "scenarios.view_scenario"
    template_name = "scenarios/admin/analytics.html"
    page_title = gettext_lazy("Scenario analytics")
    header_icon = "view"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        scenario = get_object_or_404(Scenario, pk=self.kwargs["pk"])
        user = self.request.user
        units = list(units_visible_to(user).order_by("path"))
        played = Attempt.objects.filter(scenario=scenario)
        revision_ids = sorted(set(played.values_list("revision_id", flat=True)), reverse=True)
        revisions = scenario.revisions.filter(pk__in=revision_ids).order_by("-created_at")
        form = AnalyticsFilterForm(
            self.request.GET or None,
            revisions=[
                (r.pk, f"#{r.pk} · {timezone.localtime(r.created_at):%d %b %Y %H:%M}")
                for r in revisions
            ],
            units=[(u.pk, u.full_name) for u in units],
        )
        attempts = played
        if not user.is_superuser:  # leads see attempts by officers in their units only
            attempts = attempts.filter(user__officer__unit__in=units_visible_to(user))
        revision = None
        if form.is_valid():
            data = form.cleaned_data
            if data.get("unit"):
                unit = next((u for u in units if u.pk == data["unit"]), None)
                if unit is None:
                    raise Http404
                attempts = attempts.filter(user__officer__unit__path__startswith=unit.path)
            if data.get("start"):
                attempts = attempts.filter(
                    started_at__gte=timezone.make_aware(datetime.combine(data["start"], time.min))
                )
            if data.get("end"):
                attempts = attempts.filter(
                    started_at__lte=timezone.make_aware(datetime.combine(data["end"], time.max))
                )
            if data.get("revision"):
                revision = next((r for r in revisions if r.pk == data["revision"]), None)
                if revision is None:
                    raise Http404
        source = revision or scenario.live_revision or scenario.latest_revision
        if revision is not None:
            attempts = attempts.filter(revision=revision)
            versions = []
        else:  # all versions: name the choices that the version shown no longer has
            versions = [engine_for_revision(r) for r in revisions]
        built = source.as_object().to_engine() if source else scenario.to_engine()
        total, stats = step_statistics(built, attempts, versions=versions)
        context.update(scenario=scenario, form=form, total=total, stats=stats, revision=revision)
        return context
