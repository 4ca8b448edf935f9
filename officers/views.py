"""Views for officers: the CSV import (admin), and the profile a learner completes before
learning (force, unit, service number)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from officers.forms import OfficerCSVForm, OfficerProfileForm
from officers.middleware import must_complete_profile, profile_incomplete, profile_of
from officers.roles import has_staff_role
from officers.services import ImportRejected, import_officers


class OfficerImportView(WagtailAdminTemplateMixin, FormView):
    form_class = OfficerCSVForm
    template_name = "officers/admin/import.html"
    page_title = gettext_lazy("Import officers")
    header_icon = "upload"

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("officers.import_officers"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: OfficerCSVForm) -> HttpResponse:
        try:
            report = import_officers(form.cleaned_data["file"], actor=self.request.user)
        except ImportRejected as exc:
            messages.error(
                self.request,
                _("Nothing was imported. Correct these rows and upload the file again."),
            )
            return self.render_to_response(self.get_context_data(form=form, errors=exc.errors))
        messages.success(self.request, report.summary())
        return redirect(reverse("officers_import"))


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
