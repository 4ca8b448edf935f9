"""Officers in the Wagtail admin: units, officer profiles (scoped for leads), invitations."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import ProtectedError, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic import history, usage
from wagtail.admin.views.generic import models as generic
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from officers.forms import InvitationForm, UnitForm
from officers.models import Invitation, OfficerProfile, Unit
from officers.selectors import officers_visible_to, units_visible_to
from officers.services import invitation_send
from officers.views import OfficerImportJobView, OfficerImportView


class ScopedOfficerMixin:
    """Every officer view sees only the officers of the units the user leads."""

    request: Any

    def get_base_queryset(self) -> QuerySet[OfficerProfile]:
        return officers_visible_to(self.request.user)

    def get_queryset(self) -> QuerySet[OfficerProfile]:  # edit and delete views
        return officers_visible_to(self.request.user)


class ScopedOfficerObjectMixin:
    """History and usage look the officer up among those the user may see: 404 for any other,
    whatever model permissions the user holds (these views check only those)."""

    request: Any

    def get_base_object_queryset(self) -> QuerySet[OfficerProfile]:
        return officers_visible_to(self.request.user)


class OfficerIndexView(ScopedOfficerMixin, generic.IndexView):
    def get_queryset(self) -> QuerySet[OfficerProfile]:
        return generic.IndexView.get_queryset(self)


class OfficerInspectView(generic.InspectView):
    def get_object(self, queryset: Any = None) -> OfficerProfile:
        return get_object_or_404(officers_visible_to(self.request.user), pk=self.pk)


class OfficerHistoryView(ScopedOfficerObjectMixin, history.HistoryView):
    pass


class OfficerUsageView(ScopedOfficerObjectMixin, usage.UsageView):
    pass


class OfficerEditView(ScopedOfficerMixin, generic.EditView):
    pass


class OfficerDeleteView(ScopedOfficerMixin, generic.DeleteView):
    pass


class OfficerProfileViewSet(ModelViewSet):
    model = OfficerProfile
    name = "officers"
    icon = "user"
    menu_label = _("Officers")
    index_view_class = OfficerIndexView
    inspect_view_class = OfficerInspectView
    edit_view_class = OfficerEditView
    delete_view_class = OfficerDeleteView
    history_view_class = OfficerHistoryView
    usage_view_class = OfficerUsageView
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields = ["user", "service_number", "force", "unit", "rank", "led_units"]
    list_display = ["user", "email", "service_number", "rank", "unit"]
    list_filter = ["rank"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "service_number"]
    inspect_view_fields = ["user", "service_number", "force", "unit", "rank"]


class ScopedUnitMixin:
    """Every unit view sees only the units the user leads and those under them (404 for any
    other), whatever model permissions the user holds: a unit's usage lists its officers."""

    request: Any

    def get_base_queryset(self) -> QuerySet[Unit]:  # index
        return units_visible_to(self.request.user)

    def get_queryset(self) -> QuerySet[Unit]:  # edit and delete
        return units_visible_to(self.request.user)


class ScopedUnitObjectMixin:
    """History and usage: the unit is looked up the same way (their listings are of log
    entries and references, which ScopedUnitMixin would replace)."""

    request: Any

    def get_base_object_queryset(self) -> QuerySet[Unit]:
        return units_visible_to(self.request.user)


class UnitScopedIndexView(ScopedUnitMixin, generic.IndexView):
    def get_queryset(self) -> QuerySet[Unit]:
        return generic.IndexView.get_queryset(self)


class UnitEditView(ScopedUnitMixin, generic.EditView):
    pass


class UnitDeleteView(ScopedUnitMixin, generic.DeleteView):
    """Deleting a unit deletes the units under it; officers still placed in any of them
    (protected references) must be moved first: refused here, with how many there are."""

    def officers_placed(self) -> int:
        unit: Unit = self.object
        return (
            OfficerProfile.objects.filter(
                Q(unit__path__startswith=unit.path) | Q(force__path__startswith=unit.path)
            )
            .distinct()
            .count()
        )

    def refuse(self, count: int) -> None:
        messages.error(
            self.request,
            ngettext(
                "'%(unit)s' cannot be deleted: %(count)d officer is still placed in it or in"
                " a unit under it. Move them to another unit first.",
                "'%(unit)s' cannot be deleted: %(count)d officers are still placed in it or in"
                " a unit under it. Move them to another unit first.",
                count,
            )
            % {"unit": self.object, "count": count},
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        count = self.officers_placed()
        if count:
            context["is_protected"] = True  # hides the "Yes, delete" form
            self.refuse(count)
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        if self.officers_placed():
            return self.render_to_response(self.get_context_data())
        try:
            return super().form_valid(form)
        except ProtectedError:  # placed between the check and the delete
            return self.render_to_response(self.get_context_data())


class UnitHistoryView(ScopedUnitObjectMixin, history.HistoryView):
    pass


class UnitUsageView(ScopedUnitObjectMixin, usage.UsageView):
    pass


class UnitViewSet(ModelViewSet):
    model = Unit
    name = "units"
    icon = "group"
    menu_label = _("Units")
    form_class = UnitForm
    index_view_class = UnitScopedIndexView
    edit_view_class = UnitEditView
    delete_view_class = UnitDeleteView
    history_view_class = UnitHistoryView
    usage_view_class = UnitUsageView
    list_display = ["full_name", "kind"]
    list_filter = ["kind"]
    copy_view_enabled = False
    ordering = ["path"]

    def get_form_class(self, for_update: bool = False) -> type[UnitForm]:
        return UnitForm


class InvitationCreateView(generic.CreateView):
    def save_instance(self) -> Invitation:
        self.form.instance.invited_by = self.request.user
        invitation = super().save_instance()
        invitation_send(invitation)
        return invitation


class InvitationViewSet(ModelViewSet):
    model = Invitation
    add_view_class = InvitationCreateView
    name = "invitations"
    icon = "mail"
    menu_label = _("Invitations")
    list_display = ["email", "created_at", "accepted_at"]
    copy_view_enabled = False

    def get_form_class(self, for_update: bool = False) -> type[InvitationForm]:
        return InvitationForm


class OrganisationGroup(ModelViewSetGroup):
    menu_label = _("Organisation")
    menu_icon = "group"
    menu_order = 300
    items = (OfficerProfileViewSet, UnitViewSet, InvitationViewSet)


@hooks.register("register_admin_viewset")
def register_organisation() -> OrganisationGroup:
    return OrganisationGroup()


@hooks.register("register_admin_urls")
def register_import_url() -> list[Any]:
    return [
        path("officers/import/", OfficerImportView.as_view(), name="officers_import"),
        path(
            "officers/import/<int:pk>/",
            OfficerImportJobView.as_view(),
            name="officers_import_job",
        ),
    ]


class ImportMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return request.user.has_perm("officers.import_officers")


@hooks.register("register_admin_menu_item")
def register_import_menu_item() -> MenuItem:
    return ImportMenuItem(
        _("Import officers"), reverse("officers_import"), icon_name="upload", order=310
    )
