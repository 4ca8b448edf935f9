"""Wagtail's site history (Reports > Site history), scoped to the units a training lead leads.

Wagtail shows a log entry to anyone holding any permission on the logged model
(`BaseLogEntryManager.viewable_by_user`), so a lead with `view_officerprofile` would see every
officer's edits: names and service numbers (the entry's label), and who made them. Here the
entries of the models that carry officer data are shown only when their object is within the
user's scope, in the listing, its filters and its CSV/XLSX export; entries of other models keep
Wagtail's rule, and superusers see everything. Training is the lowest app that sees every
model involved, so the rule lives here.

`site/urls.py` routes Wagtail's two site history URLs to `SiteHistoryView`, ahead of Wagtail's
admin URLs: the URL names `wagtailadmin_reports:site_history` and `..._results` still reverse
to the same paths, which now resolve to this view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import CharField, Exists, IntegerField, Model, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from wagtail.admin.auth import require_admin_access
from wagtail.admin.filters import ContentTypeFilter
from wagtail.admin.views.reports.audit_logging import LogEntriesView, SiteHistoryReportFilterSet
from wagtail.log_actions import registry as log_action_registry

from certificates.models import Certificate
from certificates.selectors import certificates_visible_to
from courses.models import LocalInformation
from officers.models import Invitation, OfficerProfile, Unit, User
from officers.selectors import led_unit_paths, officers_visible_to, subtree_q, units_visible_to
from training.admin_views import log_export
from training.exports import CellSafeExport, xlsx_response
from training.models import OFFICER_UNIT_PATH, Assignment, AssignmentRule

# What a user may see of each model that carries officer data: a queryset of the objects in
# their scope, or None for none at all. Only called for users who are not superusers.
ScopeRule = Callable[[User], QuerySet | None]


def _visible_rules(user: User) -> QuerySet[AssignmentRule]:
    """Rules for a unit in scope; rules for named officers when every one of them is."""
    named = AssignmentRule.officers.through.objects.filter(assignmentrule_id=OuterRef("pk"))
    outside = named.exclude(user__officer__in=officers_visible_to(user))
    return AssignmentRule.objects.filter(
        Q(unit__in=units_visible_to(user)) | (Q(unit__isnull=True) & Exists(named))
    ).exclude(Exists(outside))


def _visible_assignments(user: User) -> QuerySet[Assignment]:
    paths = led_unit_paths(user)
    scope = Q() if paths is None else subtree_q(paths, OFFICER_UNIT_PATH)
    return Assignment.objects.filter(scope)


SCOPED_MODELS: dict[type[Model], ScopeRule] = {
    OfficerProfile: officers_visible_to,
    User: lambda user: User.objects.filter(officer__in=officers_visible_to(user)),
    Unit: units_visible_to,
    Invitation: lambda user: None,  # administrators only
    Certificate: certificates_visible_to,
    AssignmentRule: _visible_rules,
    Assignment: _visible_assignments,
    # Leads edit their own forces' and divisions' local information, never another's.
    LocalInformation: lambda user: LocalInformation.objects.filter(unit__in=units_visible_to(user)),
}


def _has_object_id(log_model: type[Model]) -> bool:
    try:
        log_model._meta.get_field("object_id")
    except FieldDoesNotExist:
        return False
    return True


def log_entries_visible_to(user: User, queryset: QuerySet) -> QuerySet:
    """The entries of this log entry queryset (any log model, `values()` or not) that the user
    may see, on top of whatever the queryset already filters (Wagtail's `viewable_by_user`).

    An entry of a model in `SCOPED_MODELS` is kept only if its object exists and is within the
    user's scope (so entries of deleted objects are for superusers only); other entries are
    kept. Log models without an `object_id` column (pages) cannot point at these models in the
    way we can check, so their entries of these models (there should be none) are dropped.
    """
    if user.is_superuser:
        return queryset
    keep_object_ids = _has_object_id(queryset.model)
    visible = ~Q(content_type_id__in=[ct.pk for ct in _scoped_content_types()])
    for model, rule in SCOPED_MODELS.items():
        objects = rule(user)
        if objects is None or not keep_object_ids:
            continue
        object_ids = (
            objects.order_by()
            .annotate(object_id_text=Cast("pk", CharField()))
            .values("object_id_text")
        )
        visible |= Q(content_type_id=_content_type(model).pk, object_id__in=object_ids)
    return queryset.filter(visible)


def _content_type(model: type[Model]) -> ContentType:
    # As Wagtail's log_action records it: the model's own content type, even for a proxy.
    return ContentType.objects.get_for_model(model, for_concrete_model=False)


def _scoped_content_types() -> list[ContentType]:
    return [_content_type(model) for model in SCOPED_MODELS]


def _entries_by_log_model(user: User) -> Iterable[QuerySet]:
    """Every registered log model's entries that the user may see."""
    for log_model in log_action_registry.get_log_entry_models():
        yield log_entries_visible_to(user, log_model.objects.viewable_by_user(user))


def users_for_filter(user: User) -> QuerySet[User]:
    """The people named in the entries the user may see (who did what), for the User filter."""
    user_ids: set[int] = set()
    for entries in _entries_by_log_model(user):
        user_ids.update(entries.get_user_ids())
    model = get_user_model()
    return model.objects.filter(pk__in=user_ids).order_by(model.USERNAME_FIELD)


def content_types_for_filter(user: User) -> QuerySet[ContentType]:
    content_type_ids: set[int] = set()
    for entries in _entries_by_log_model(user):
        content_type_ids.update(entries.get_content_type_ids())
    return ContentType.objects.filter(pk__in=content_type_ids).order_by("model")


def actions_for_filter(user: User) -> list[tuple[str, str]]:
    actions: set[str] = set()
    for entries in _entries_by_log_model(user):
        actions.update(entries.get_actions())
    return [choice for choice in log_action_registry.get_choices() if choice[0] in actions]


class ScopedSiteHistoryFilterSet(SiteHistoryReportFilterSet):
    """Wagtail's filters, whose choices come only from the entries the user may see.

    Wagtail's own User filter lists everyone who ever acted on a page (its `get_user_choices`
    is never called): here it lists the people in the visible entries, of every log model."""

    object_type = ContentTypeFilter(
        label=gettext_lazy("Type"),
        method="filter_object_type",
        queryset=lambda request: content_types_for_filter(request.user),
    )

    def get_action_choices(self) -> list[tuple[str, str]]:
        return actions_for_filter(self.request.user)

    def get_users_queryset(self) -> QuerySet[User]:
        return users_for_filter(self.request.user)

    def get_user_choices(self) -> QuerySet[User]:
        return users_for_filter(self.request.user)


class SiteHistoryView(CellSafeExport, LogEntriesView):
    """Reports > Site history, scoped by `log_entries_visible_to`; exports are logged."""

    filterset_class = ScopedSiteHistoryFilterSet

    def get_filtered_queryset(self) -> QuerySet:
        """Wagtail's query (one `values()` subquery per log model, joined with `union()`; see
        `LogEntriesView.get_filtered_queryset`), with each subquery scoped. Written out here
        rather than hooked into, so that which rows may be shown is decided in this module."""
        self.log_models = list(log_action_registry.get_log_entry_models())
        user = self.request.user
        queryset = None
        for index, log_model in enumerate(self.log_models):
            entries = log_entries_visible_to(user, log_model.objects.viewable_by_user(user))
            sub_queryset = entries.values("pk", "timestamp").annotate(
                log_model_index=Value(index, output_field=IntegerField())
            )
            sub_queryset = self.filter_queryset(sub_queryset).order_by()
            queryset = sub_queryset if queryset is None else queryset.union(sub_queryset, all=True)
        return queryset.order_by("-timestamp")

    # Log entries read and decorated at once by an export: the export holds this many.
    EXPORT_CHUNK = 2000

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """An export reads the log from a server-side cursor and decorates it a chunk at a
        time. Wagtail's report decorates the whole unpaginated log at once, in memory, before
        the first byte."""
        if self.is_export:
            entries = self.decorated_in_chunks(self.get_filtered_queryset())
            return self.as_spreadsheet(entries, request.GET["export"])
        return super().get(request, *args, **kwargs)

    def decorated_in_chunks(self, queryset: QuerySet) -> Iterator[Any]:
        rows = queryset.iterator(chunk_size=self.EXPORT_CHUNK)
        while chunk := list(islice(rows, self.EXPORT_CHUNK)):
            yield from self.decorate_paginated_queryset(chunk)

    def write_xlsx_response(self, queryset: Any) -> FileResponse:
        """Written to a temporary file on disk, not in memory (training.exports)."""
        return xlsx_response(lambda output: self.write_xlsx(queryset, output), self.get_filename())

    def as_spreadsheet(self, queryset: Any, spreadsheet_format: str) -> HttpResponse:
        log_export(self.request, "site_history", spreadsheet_format)
        return super().as_spreadsheet(queryset, spreadsheet_format)


def _as_admin_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """As Wagtail decorates every admin URL (wagtail.admin.urls): admin access required (a
    PermissionDenied becomes Wagtail's redirect), never cached."""
    return never_cache(require_admin_access(view))


def _view(**initkwargs: Any) -> Callable[[HttpRequest], HttpResponse]:
    return _as_admin_view(SiteHistoryView.as_view(**initkwargs))


site_history_view = _view()
site_history_results_view = _view(results_only=True)
