"""Admin views for officers: the CSV import."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from officers.forms import OfficerCSVForm
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
