"""Certificates in the Wagtail admin: scoped listing for leads and administrators, revoking."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail import hooks
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.views.generic import history
from wagtail.admin.views.generic import models as generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from certificates.forms import RevokeForm
from certificates.models import Certificate
from certificates.selectors import certificates_visible_to
from certificates.services import REVOKE_ACTION, certificate_revoke


class ScopedIndexView(generic.IndexView):
    def get_base_queryset(self) -> QuerySet[Certificate]:
        return certificates_visible_to(self.request.user)


class ScopedInspectView(generic.InspectView):
    def get_object(self, queryset: Any = None) -> Certificate:
        return get_object_or_404(certificates_visible_to(self.request.user), pk=self.pk)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        certificate = self.object
        if self.request.user.has_perm("certificates.revoke_certificate") and (
            certificate.revoked_at is None
        ):
            context["header_buttons"] = [
                Button(
                    _("Revoke"),
                    reverse("certificates_revoke", args=[certificate.pk]),
                    icon_name="cross",
                )
            ]
        return context


class ScopedHistoryView(history.HistoryView):
    """A certificate's history (revocations: who and why) for those who may see it: 404 for
    any other, whatever model permissions the user holds."""

    def get_base_object_queryset(self) -> QuerySet[Certificate]:
        return certificates_visible_to(self.request.user)


class CertificateViewSet(ModelViewSet):
    model = Certificate
    name = "certificate_admin"
    url_prefix = "certificates"
    icon = "doc-full"
    menu_label = gettext_lazy("Certificates")
    menu_order = 320
    add_to_admin_menu = True
    index_view_class = ScopedIndexView
    inspect_view_class = ScopedInspectView
    history_view_class = ScopedHistoryView
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        "number",
        "officer_name",
        "course_title",
        "issued_at",
        "expires_on",
        "state_label",
    ]
    list_filter = ["course", "revoked_at", "expires_on"]
    search_fields = ["number", "officer_name", "service_number", "course_title"]
    inspect_view_fields = [
        "number",
        "officer_name",
        "service_number",
        "force_name",
        "course_title",
        "issued_at",
        "expires_on",
        "superseded_by",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
    ]
    form_fields = ["revoke_reason"]  # certificates are never edited; revoking has its own view

    def get_common_view_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        # No add, edit or delete views exist, so no view may offer a button for them.
        return {
            **super().get_common_view_kwargs(**kwargs),
            "add_url_name": None,
            "edit_url_name": None,
            "delete_url_name": None,
        }

    @property
    def url_finder_class(self) -> type[ModelAdminURLFinder]:
        # Where the admin links a certificate (site history, usage): its inspect view, as there
        # is no edit view (reversing one raised an error on administrators' site history).
        return type(
            "CertificateAdminURLFinder",
            (ModelAdminURLFinder,),
            {"edit_url_name": self.get_url_name("inspect")},
        )

    def get_urlpatterns(self) -> list[Any]:
        # Only listing and inspecting: an issued certificate never changes.
        keep = {"index", "index_results", "inspect", "history", "history_results"}
        return [p for p in super().get_urlpatterns() if p.name in keep]


class RevokeView(WagtailAdminTemplateMixin, FormView):
    form_class = RevokeForm
    template_name = "certificates/admin/revoke.html"
    page_title = gettext_lazy("Revoke a certificate")
    header_icon = "cross"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("certificates.revoke_certificate"):
            raise PermissionDenied
        self.certificate = get_object_or_404(certificates_visible_to(request.user), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(certificate=self.certificate, **kwargs)

    def form_valid(self, form: RevokeForm) -> HttpResponse:
        try:
            certificate_revoke(
                certificate=self.certificate,
                by=self.request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            form.add_error("reason", exc)
            return self.form_invalid(form)
        messages.success(
            self.request, _("Certificate %(n)s revoked.") % {"n": self.certificate.number}
        )
        return redirect(reverse("certificate_admin:inspect", args=[self.certificate.pk]))


@hooks.register("register_admin_viewset")
def register_certificates() -> CertificateViewSet:
    return CertificateViewSet()


@hooks.register("register_admin_urls")
def register_revoke_url() -> list[Any]:
    return [path("certificates/revoke/<int:pk>/", RevokeView.as_view(), name="certificates_revoke")]


@hooks.register("register_log_actions")
def register_revoke_action(actions: Any) -> None:
    actions.register_action(REVOKE_ACTION, _("Revoke certificate"), _("Certificate revoked"))
