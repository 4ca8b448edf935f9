"""Views for officers: the import of an HR file (admin), and the profile a learner completes before
learning (force, unit, service number)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from officers.forms import OfficerCSVForm, OfficerImportConfirmForm, OfficerProfileForm
from officers.import_jobs import (
    RUNNING,
    SHOWN,
    import_job_cancel,
    import_job_confirm,
    import_job_create,
    import_job_retry,
    import_job_stalled,
    import_jobs_of,
    import_preview_sections,
    progress_get,
)
from officers.middleware import must_complete_profile, profile_incomplete, profile_of
from officers.models import OfficerImport
from officers.roles import has_staff_role


class ImportPermissionMixin:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("officers.import_officers"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class OfficerImportView(ImportPermissionMixin, WagtailAdminTemplateMixin, FormView):
    """Upload an HR file; its preview is prepared in the background (officers.import_jobs)."""

    form_class = OfficerCSVForm
    template_name = "officers/admin/import.html"
    page_title = gettext_lazy("Import officers")
    header_icon = "upload"

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["imports"] = import_jobs_of(self.request.user)[:10]
        return context

    def form_valid(self, form: OfficerCSVForm) -> HttpResponse:
        filename, data = form.cleaned_data["file"]
        job = import_job_create(user=self.request.user, filename=filename, data=data)
        return redirect(reverse("officers_import_job", args=[job.pk]))


class OfficerImportJobView(ImportPermissionMixin, WagtailAdminTemplateMixin, TemplateView):
    """One import: its preview (confirm, cancel), its progress, its result. The uploader's
    only: anyone else gets a 404."""

    template_name = "officers/admin/import_job.html"
    page_title = gettext_lazy("Import officers")
    header_icon = "upload"
    REFRESH_SECONDS = 3

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse("officers_import"), "label": self.page_title},
            {"url": "", "label": self.job.filename},
        ]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            self.job = get_object_or_404(import_jobs_of(request.user), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self) -> str:
        return self.job.filename

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        if self.job.status in RUNNING and not import_job_stalled(self.job):
            # Follows the job without JavaScript: the browser asks again.
            response["Refresh"] = str(self.REFRESH_SECONDS)
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        job = self.job
        context = super().get_context_data(**kwargs)
        context.update(
            job=job,
            Status=OfficerImport.Status,
            running=job.status in RUNNING,
            stalled=import_job_stalled(job),
            progress=progress_get(job.pk) if job.status == OfficerImport.Status.APPLYING else None,
            refresh_seconds=self.REFRESH_SECONDS,
            counts=job.preview.get("counts", {}),
            sections=import_preview_sections(job),
            shown=SHOWN,
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = OfficerImportConfirmForm(request.POST)
        job = self.job
        if not form.is_valid():
            messages.error(request, _("Choose one of the buttons on this page."))
        elif form.cleaned_data["action"] == "confirm":
            leavers = form.cleaned_data["deactivate_leavers"]
            if not import_job_confirm(job, deactivate_leavers=leavers):
                messages.warning(request, _("This import is no longer waiting to be confirmed."))
        elif form.cleaned_data["action"] == "cancel":
            if import_job_cancel(job):
                messages.success(request, _("Import cancelled. Nothing was changed."))
        elif not import_job_retry(job):
            messages.warning(request, _("This import cannot be previewed again."))
        return redirect(reverse("officers_import_job", args=[job.pk]))


def safe_next(request: HttpRequest, value: str | None) -> str | None:
    """`value` if it is a path on this site (no other host, no other scheme), else None."""
    if not value or not url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    return value


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    """Where a learner says which force and unit they serve in and gives their service
    number; until they do, officers.middleware sends them here. A complete profile is shown,
    not edited: a move between units is for a training lead or an administrator."""
    user = request.user
    profile = profile_of(user)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if not profile_incomplete(profile):
        if request.method == "POST":
            return redirect(next_url or reverse("my_learning"))
        return render(request, "officers/profile.html", {"profile": profile, "next": next_url})
    number_required = not has_staff_role(user)
    initial = {}
    if profile is not None:
        initial = {
            "force": profile.force_id,
            "unit": profile.unit_id,
            "service_number": profile.service_number,
        }
    form = OfficerProfileForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        user=user,
        number_required=number_required,
    )
    if request.method == "POST" and form.is_valid() and form.save() is not None:
        messages.success(request, _("Thank you. Your profile is complete."))
        return redirect(next_url or reverse("my_learning"))
    return render(
        request,
        "officers/profile.html",
        {
            "form": form,
            "next": next_url,
            "required": must_complete_profile(user),
        },
        status=200,
    )
