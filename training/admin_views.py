"""Training-lead views in the Wagtail admin: assign, matrix, lists, transcript, reminders, and
the export files written in the background.

Every view filters by the units the signed-in lead leads; exports stream and are logged. A long
XLSX is written by a background task (training.export_files), which rebuilds the same view for
the same person and query string (`export_file_write`): the list's rules live only here.
"""

from __future__ import annotations

from typing import IO, Any
from urllib.parse import urlencode

import django_filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Q, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
)
from django.shortcuts import get_object_or_404, redirect
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView, View
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import Button

from certificates.models import Certificate
from courses.models import Enrolment
from courses.selectors import progress_by_officer
from officers.jurisdictions import Jurisdiction
from officers.models import OfficerProfile, OutgoingEmail, Unit
from officers.params import parse_id
from officers.selectors import (
    led_unit_paths,
    officer_jurisdiction,
    officers_visible_to,
    subtree_q,
)
from scenarios.models import Attempt
from training.assignments import assignment_rule_create
from training.export_files import (
    REFRESH_SECONDS,
    export_file_is_stale,
    export_file_request,
    export_files_of,
    export_fits_inline,
    export_inline_rows,
)
from training.exports import (
    CellSafeExport,
    Counted,
    stream_csv,
    xlsx_file,
    xlsx_response,
    xlsx_write,
)
from training.filters import OverdueFilterSet, certificate_filterset
from training.forms import AssignForm
from training.matrix import (
    DEFAULT_OFFICER_ORDERING,
    OFFICER_ORDERINGS,
    OFFICERS_PER_PAGE,
    completion_matrix,
    lesson_time_report,
    matrix_export_rows,
    matrix_export_size,
)
from training.models import OFFICER_UNIT_PATH, Assignment, ExportFile, ExportLog, Reminder

VIEW_PERMISSION = "training.view_assignment"


def _scope(request: HttpRequest, field: str) -> Q:
    paths = led_unit_paths(request.user)
    return Q() if paths is None else subtree_q(paths, field)


def log_export(request: HttpRequest, what: str, export_format: str) -> None:
    filters = {k: v for k, v in request.GET.items() if k != "export"}
    ExportLog.objects.create(user=request.user, what=what, format=export_format, filters=filters)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FORMATS = ("csv", "xlsx")


def export_format_refused(export_format: str) -> HttpResponse:
    """An `?export=` that is neither csv nor xlsx: said plainly (a hand-edited address)."""
    return HttpResponseBadRequest(
        _("Exports are offered as CSV or XLSX (export=csv or export=xlsx), not “%(format)s”.")
        % {"format": export_format[:20]},
        content_type="text/plain; charset=utf-8",
    )


def export_in_background(request: HttpRequest, *, what: str, filename: str) -> HttpResponse:
    """Record an XLSX export for the task to write, and send the person to its page."""
    log_export(request, what, "xlsx")
    try:
        export = export_file_request(
            user=request.user, what=what, filename=f"{filename}.xlsx", query=request.GET
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("training_my_exports")
    return redirect("training_export_file", token=export.token)


class SortableMixin:
    """Orderings for a Wagtail listing whose columns have a `sort_key`: Wagtail accepts only
    those keys (anything else in `?ordering=` is the default order, never an error); here a key
    may stand for several fields (`sort_fields`), empty values sort last in either direction on
    every database, and the primary key ends every ordering, so that pages neither repeat nor
    skip a row and an export comes in the order shown."""

    sort_fields: dict[str, tuple[str, ...]] = {}
    ordering: str | None

    def order_queryset(self, queryset: QuerySet) -> QuerySet:
        if not self.ordering:
            return super().order_queryset(queryset)  # type: ignore[misc]
        key, descending = self.ordering.removeprefix("-"), self.ordering.startswith("-")
        order = [
            F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
            for name in self.sort_fields.get(key, (key,))
        ]
        return queryset.order_by(*order, "-pk" if descending else "pk")


class LeadViewMixin:
    permission = VIEW_PERMISSION
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class TrainingIndexView(LeadViewMixin, SortableMixin, CellSafeExport, IndexView):
    """A scoped, filterable, sortable, exportable list (Wagtail's spreadsheet export, every cell
    safe). A long XLSX is written by the background task (`export_file_write`)."""

    scope_field = OFFICER_UNIT_PATH
    export_name = "list"
    paginate_by = 50
    sort_fields = {"officer": ("user__last_name", "user__first_name")}

    def get_base_queryset(self) -> QuerySet:
        return super().get_base_queryset().filter(_scope(self.request, self.scope_field))

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """An export goes straight from the filtered, ordered queryset to the file. Wagtail
        builds the listing's context first, whose `len()` of an unpaginated list loads every
        row into memory before the first byte (tens of seconds and hundreds of MB for a
        force's overdue list). An XLSX longer than `export_inline_rows()` is left to the
        background task."""
        export_format = request.GET.get("export")
        if export_format and export_format not in self.FORMATS:
            return export_format_refused(export_format)
        if self.is_export:
            queryset = self.get_queryset()
            if export_format == self.FORMAT_XLSX and not export_fits_inline(queryset):
                return export_in_background(
                    request, what=self.export_name, filename=self.get_filename()
                )
            return self.as_spreadsheet(queryset, export_format)
        return super().get(request, *args, **kwargs)

    def write_export_file(self, output: IO[bytes]) -> int:
        """The XLSX the request would have written, to `output` (the background task's
        work); returns the number of rows."""
        rows = Counted(self.get_queryset().iterator(chunk_size=2000))
        self.write_xlsx(rows, output)
        return rows.count

    def stream_csv(self, queryset: QuerySet) -> Any:
        return super().stream_csv(queryset.iterator(chunk_size=2000))

    def get_heading(self, queryset: Any, field: str) -> str:
        model_queryset = self.get_base_queryset()
        return super().get_heading(model_queryset, field)

    def write_xlsx_response(self, queryset: QuerySet) -> FileResponse:
        return xlsx_response(
            lambda output: self.write_xlsx(queryset.iterator(chunk_size=2000), output),
            self.get_filename(),
        )

    def as_spreadsheet(self, queryset: QuerySet, spreadsheet_format: str) -> HttpResponse:
        log_export(self.request, self.export_name, spreadsheet_format)
        return super().as_spreadsheet(queryset, spreadsheet_format)


class OverdueView(TrainingIndexView):
    model = Assignment
    page_title = gettext_lazy("Overdue")
    header_icon = "warning"
    export_name = "overdue"
    export_filename = "pathways-overdue"
    filterset_class = OverdueFilterSet
    index_url_name = "training_overdue"
    index_results_url_name = "training_overdue_results"
    columns_fields = ["user", "course", "due_on", "started_at"]
    list_export = ["user.email", "user.get_full_name", "course_title", "due_on", "started_at"]
    export_headings = {
        "user.email": "Email",
        "user.get_full_name": "Name",
        "course_title": "Course",
        "due_on": "Due on",
        "started_at": "Started",
    }
    default_ordering = "due_on"

    def get_base_queryset(self) -> QuerySet:
        today = timezone.localdate()
        return (
            super()
            .get_base_queryset()
            .applying()
            .filter(current=True, completed_at__isnull=True, due_on__lt=today)
            # The course's title, not the course: a page is costly to build, once per row of
            # an export of hundreds of thousands.
            .select_related("user")
            .annotate(course_title=F("course__title"))
        )

    @property
    def columns(self) -> list[Any]:
        return [
            Column("user", label=_("Officer"), accessor="user", sort_key="officer"),
            Column("email", label=_("Email"), accessor="user.email", sort_key="user__email"),
            Column("course", label=_("Course"), accessor="course_title", sort_key="course_title"),
            DateColumn("due_on", label=_("Due on"), sort_key="due_on"),
            DateColumn("started_at", label=_("Started"), sort_key="started_at"),
        ]


class CertificateListView(TrainingIndexView):
    model = Certificate
    scope_field = OFFICER_UNIT_PATH
    header_icon = "doc-full"
    list_export = [
        "number",
        "officer_name",
        "service_number",
        "course_title",
        "issued_at",
        "expires_on",
        "state_label",
    ]
    export_headings = {
        "number": "Number",
        "officer_name": "Name",
        "service_number": "Service number",
        "course_title": "Course",
        "issued_at": "Issued",
        "expires_on": "Expires",
        "state_label": "Status",
    }
    default_ordering = "expires_on"

    def certificates(self) -> QuerySet:
        """The certificates this list is about, before scope and filters."""
        return Certificate.objects.all()

    def get_base_queryset(self) -> QuerySet:
        return (
            # Every column is the certificate's own (names and title are kept on it).
            self.certificates().filter(_scope(self.request, self.scope_field))
        )

    @property
    def columns(self) -> list[Any]:
        return [
            Column("number", label=_("Number"), sort_key="number"),
            Column("officer_name", label=_("Officer"), sort_key="officer_name"),
            Column("service_number", label=_("Service number"), sort_key="service_number"),
            Column("course_title", label=_("Course"), sort_key="course_title"),
            DateColumn("expires_on", label=_("Expires"), sort_key="expires_on"),
            Column("state_label", label=_("Status")),
        ]


class ExpiringView(CertificateListView):
    page_title = gettext_lazy("Expiring soon")
    export_name = "expiring"
    export_filename = "pathways-expiring"
    index_url_name = "training_expiring"
    index_results_url_name = "training_expiring_results"
    filterset_class = certificate_filterset("expires_on", gettext_lazy("Expires between"))

    def within_days(self) -> int | None:
        """`?days=N` (1 to 3650): expiring within N days instead of the refresher window."""
        days = self.request.GET.get("days", "")
        if days.isascii() and days.isdigit():
            return max(1, min(int(days), 3650))
        return None

    def get_page_subtitle(self) -> str:
        days = self.within_days()
        if days is None:
            return _("In each course's refresher window")
        return _("Expiring within %(n)s days") % {"n": days}

    def certificates(self) -> QuerySet:
        today = timezone.localdate()
        days = self.within_days()
        if days is None:
            return Certificate.objects.expiring(on=today)
        return Certificate.objects.expiring_within(days=days, on=today)


class ExpiredView(CertificateListView):
    page_title = gettext_lazy("Expired")
    export_name = "expired"
    export_filename = "pathways-expired"
    index_url_name = "training_expired"
    index_results_url_name = "training_expired_results"
    filterset_class = certificate_filterset("expires_on", gettext_lazy("Expired between"))

    def certificates(self) -> QuerySet:
        return Certificate.objects.expired(on=timezone.localdate())


class RevokedView(CertificateListView):
    page_title = gettext_lazy("Revoked")
    export_name = "revoked"
    export_filename = "pathways-revoked"
    index_url_name = "training_revoked"
    index_results_url_name = "training_revoked_results"
    filterset_class = certificate_filterset("revoked_at", gettext_lazy("Revoked between"))

    def certificates(self) -> QuerySet:
        return Certificate.objects.filter(revoked_at__isnull=False)


class RemindersView(TrainingIndexView):
    class FilterSet(WagtailFilterSet):
        """By kind, and by what became of the email: queued, sending, sent or failed."""

        status = django_filters.ChoiceFilter(
            label=gettext_lazy("Status"),
            choices=OutgoingEmail.Status.choices,
            method="filter_status",
            empty_label=gettext_lazy("Any"),
        )

        class Meta:
            model = Reminder
            fields = ["kind", "status"]

        def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
            if value == OutgoingEmail.Status.SENT:  # reminders from before the outbox were sent
                return queryset.filter(
                    Q(outgoing_email__status=value) | Q(outgoing_email__isnull=True)
                )
            return queryset.filter(outgoing_email__status=value)

    model = Reminder
    page_title = gettext_lazy("Reminders sent")
    header_icon = "mail"
    scope_field = OFFICER_UNIT_PATH
    export_name = "reminders"
    export_filename = "pathways-reminders"
    index_url_name = "training_reminders"
    index_results_url_name = "training_reminders_results"
    filterset_class = FilterSet
    list_export = ["user.email", "kind", "subject", "sent_at", "delivery_status", "delivery_error"]
    export_headings = {"delivery_status": "Status", "delivery_error": "Error"}
    default_ordering = "-sent_at"
    sort_fields = {**TrainingIndexView.sort_fields, "status": ("outgoing_email__status",)}

    def get_base_queryset(self) -> QuerySet:
        return super().get_base_queryset().select_related("user", "outgoing_email")

    @property
    def columns(self) -> list[Any]:
        return [
            Column("user", label=_("Officer"), accessor="user", sort_key="officer"),
            Column("email", label=_("Email"), accessor="user.email", sort_key="user__email"),
            Column("kind", label=_("Reminder"), accessor="get_kind_display", sort_key="kind"),
            Column("subject", label=_("Subject"), sort_key="subject"),
            DateColumn("sent_at", label=_("Queued"), sort_key="sent_at"),
            Column("status", label=_("Status"), accessor="delivery_status", sort_key="status"),
            Column("error", label=_("Error"), accessor="delivery_error"),
        ]


class ExportLogView(LeadViewMixin, SortableMixin, IndexView):
    model = ExportLog
    page_title = gettext_lazy("Exports")
    header_icon = "download"
    permission = "training.view_exportlog"
    index_url_name = "training_exports"
    index_results_url_name = "training_exports_results"
    paginate_by = 50
    default_ordering = "-created_at"
    sort_fields = {"user": ("user__last_name", "user__first_name", "user__email")}

    @property
    def columns(self) -> list[Any]:
        return [
            Column("user", label=_("Who"), accessor="user", sort_key="user"),
            Column("what", label=_("What"), sort_key="what"),
            Column("format", label=_("Format"), sort_key="format"),
            DateColumn("created_at", label=_("When"), sort_key="created_at"),
        ]


class MatrixView(LeadViewMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "training/admin/matrix.html"
    page_title = gettext_lazy("Completion matrix")
    header_icon = "table"
    export_name = "matrix"
    index_url_name = "training_matrix"
    per_page = OFFICERS_PER_PAGE  # a team's officers on a page

    def requested_unit(self) -> Unit | None:
        """The unit of `?unit=` (Http404 for an id of no unit); None for none, or for a value
        that is not an id (`get` sends that back to the top)."""
        unit_id = parse_id(self.request.GET.get("unit") or None)
        return get_object_or_404(Unit, pk=unit_id) if unit_id is not None else None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        export = request.GET.get("export")
        if export and export not in EXPORT_FORMATS:
            return export_format_refused(export)
        unit = self.requested_unit()
        if unit is None and request.GET.get("unit"):
            return redirect("training_matrix")
        ordering = request.GET.get("ordering")
        if export:
            # A unit's name is user text: only its slug reaches the Content-Disposition header.
            name = "pathways-matrix" + (f"-{slugify(unit.name)[:60]}" if unit else "")
            # Either call is a 404 for a unit not the lead's, before anything is logged or queued.
            limit = export_inline_rows()
            if (
                export == "xlsx"
                and matrix_export_size(request.user, unit=unit, limit=limit) > limit
            ):
                return export_in_background(request, what=self.export_name, filename=name)
            rows = matrix_export_rows(request.user, unit=unit, ordering=ordering)
            log_export(request, self.export_name, export)
            return stream_csv(rows, name) if export == "csv" else xlsx_file(rows, name)
        # A team's officers a page at a time.
        self.matrix = completion_matrix(
            request.user,
            unit=unit,
            page=request.GET.get("page"),
            per_page=self.per_page,
            ordering=ordering,
        )
        return super().get(request, *args, **kwargs)

    def write_export_file(self, output: IO[bytes]) -> int:
        """The XLSX the request would have written, to `output` (the background task's
        work); returns the number of rows."""
        rows = matrix_export_rows(
            self.request.user,
            unit=self.requested_unit(),
            ordering=self.request.GET.get("ordering"),
        )
        return xlsx_write(rows, output)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["matrix"] = self.matrix
        params = self.request.GET.copy()
        params.pop("page", None)  # an export is of the whole team, in the order shown
        for fmt in EXPORT_FORMATS:
            params["export"] = fmt
            context[f"{fmt}_url"] = f"{self.request.path}?{params.urlencode()}"
        page = self.matrix.officer_page
        if page is not None:
            context["sort_links"] = self.sort_links()
        if page is not None and page.paginator.num_pages > 1:
            links = self.request.GET.copy()
            links.pop("export", None)
            for name, number in (
                ("previous_url", page.previous_page_number() if page.has_previous() else None),
                ("next_url", page.next_page_number() if page.has_next() else None),
            ):
                if number is not None:
                    links["page"] = number
                    context[name] = f"{self.request.path}?{links.urlencode()}"
        return context

    # The direction a sort starts in: the most overdue first, the least complete first.
    FIRST_DIRECTION = {"overdue": "-"}

    def sort_links(self) -> list[dict[str, Any]]:
        """A link per way of sorting a team's officers (from the first page); the current one
        reverses it."""
        current = self.matrix.ordering
        params = self.request.GET.copy()
        params.pop("page", None)
        params.pop("export", None)
        links = []
        for key, label in OFFICER_ORDERINGS.items():
            active = current.removeprefix("-") == key
            descending = current.startswith("-")
            if active:
                ordering = key if descending else f"-{key}"
            else:
                ordering = self.FIRST_DIRECTION.get(key, "") + key
            if ordering == DEFAULT_OFFICER_ORDERING:
                params.pop("ordering", None)
            else:
                params["ordering"] = ordering
            links.append(
                {
                    "label": label,
                    "url": f"{self.request.path}?{params.urlencode()}",
                    "active": active,
                    "descending": active and descending,
                }
            )
        return links

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]


class LessonTimeView(LeadViewMixin, WagtailAdminTemplateMixin, TemplateView):
    """Time on lessons: median time per lesson and unit beside the estimate, and completions
    far faster than the estimate (a flag for the lead to follow up, never a block)."""

    template_name = "training/admin/time_report.html"
    page_title = gettext_lazy("Time on lessons")
    header_icon = "time"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["report"] = lesson_time_report(self.request.user)
        return context

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]


class TranscriptView(LeadViewMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "training/admin/transcript.html"
    page_title = gettext_lazy("Transcript")
    header_icon = "user"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        profile = get_object_or_404(
            officers_visible_to(self.request.user), user_id=self.kwargs["user_id"]
        )
        user = profile.user
        jurisdiction = officer_jurisdiction(user)
        enrolments = list(
            Enrolment.objects.filter(user=user).select_related("course").order_by("-started_at")
        )
        # Open runs, measured against the outline for the officer's jurisdiction as it is now.
        open_runs = [e for e in enrolments if not e.is_complete]
        progress = progress_by_officer(
            officers={user.pk: jurisdiction},
            pairs=[(user.pk, e.course_id) for e in open_runs],
            courses=[e.course for e in open_runs],
        )
        context.update(
            profile=profile,
            jurisdiction_label=Jurisdiction(jurisdiction).label if jurisdiction else "",
            progress={course_id: found for (_user, course_id), found in progress.items()},
            assignments=Assignment.objects.filter(user=user)
            .select_related("course")
            .order_by("-assigned_at"),
            enrolments=enrolments,
            attempts=Attempt.objects.filter(user=user)
            .select_related("scenario")
            .order_by("-started_at"),
            certificates=Certificate.objects.filter(user=user).order_by("-issued_at"),
            reminders=Reminder.objects.filter(user=user).order_by("-sent_at"),
        )
        return context

    def get_page_subtitle(self) -> str:
        return str(get_object_or_404(OfficerProfile, user_id=self.kwargs["user_id"]).user)


class AssignView(LeadViewMixin, WagtailAdminTemplateMixin, FormView):
    permission = "training.add_assignmentrule"
    template_name = "training/admin/assign.html"
    form_class = AssignForm
    page_title = gettext_lazy("Assign a course")
    header_icon = "calendar-alt"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form: AssignForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            rule, count = assignment_rule_create(
                by=self.request.user,
                course=data["course"],
                unit=data["unit"],
                officers=data["officer_users"],
                due_date=data["due_date"],
                due_days=data["due_days"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("“%(course)s” assigned to %(n)s officer(s).")
            % {"course": rule.course.title, "n": count},
        )
        return redirect("training_matrix")

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]


# --- Export files ----------------------------------------------------------------------------

# The lists that may be exported in the background, by the name their exports are logged under.
EXPORT_VIEWS: dict[str, type[TrainingIndexView] | type[MatrixView]] = {
    view.export_name: view
    for view in (MatrixView, OverdueView, ExpiringView, ExpiredView, RevokedView, RemindersView)
}


def export_list_url(export: ExportFile) -> str:
    """The list an export was made from, with its filters and sort: where to try again."""
    view = EXPORT_VIEWS.get(export.what)
    if view is None:
        return reverse("training_matrix")
    query = urlencode(export.params, doseq=True)
    return reverse(view.index_url_name) + (f"?{query}" if query else "")


def export_title(export: ExportFile) -> str:
    view = EXPORT_VIEWS.get(export.what)
    return str(view.page_title) if view is not None else export.what


def export_file_write(export: ExportFile, output: IO[bytes]) -> int:
    """Write `export` as its view would have inside the request: the view is rebuilt from a GET
    of the same address and query string, for the same person, so that the rows, their scope
    (the person's units as the unit tree is now), filters and sort are the list's own. Raises
    PermissionDenied if the person may no longer see such lists, Http404 for a unit no longer
    theirs."""
    view_class = EXPORT_VIEWS.get(export.what)
    if view_class is None:
        raise Http404("No such list.")
    request = RequestFactory().get(
        reverse(view_class.index_url_name), {**export.params, "export": export.format}
    )
    request.user = export.user
    if not export.user.is_active or not export.user.has_perm(view_class.permission):
        raise PermissionDenied
    view = view_class()
    view.setup(request)
    return view.write_export_file(output)


class MyExportsView(LeadViewMixin, SortableMixin, IndexView):
    """Your exports: the signed-in person's own export files, until they expire."""

    model = ExportFile
    page_title = gettext_lazy("Your exports")
    header_icon = "download"
    index_url_name = "training_my_exports"
    index_results_url_name = "training_my_exports_results"
    paginate_by = 50
    default_ordering = "-created_at"
    # Wagtail's check of the model's permissions is replaced by the lead's (LeadViewMixin):
    # nobody is given permissions on export files; each sees their own.
    any_permission_required = None

    def get_base_queryset(self) -> QuerySet:
        return export_files_of(self.request.user)

    @property
    def columns(self) -> list[Any]:
        return [
            TitleColumn(
                "what",
                label=_("List"),
                accessor=export_title,
                get_url=lambda export: reverse("training_export_file", args=[export.token]),
                sort_key="what",
            ),
            Column("status", label=_("Status"), accessor="get_status_display", sort_key="status"),
            Column("rows", label=_("Rows"), sort_key="rows"),
            DateColumn("created_at", label=_("Asked"), sort_key="created_at"),
            DateColumn("expires_at", label=_("Deleted after"), sort_key="expires_at"),
        ]

    def get_page_subtitle(self) -> str:
        return _("Kept for you alone, until they are deleted")


class ExportFileView(LeadViewMixin, WagtailAdminTemplateMixin, TemplateView):
    """One export file: being prepared (the page looks again every few seconds, with no
    JavaScript), ready to download, or failed and why. Only the person who asked sees it:
    anyone else, whatever their role, gets a 404."""

    template_name = "training/admin/export_file.html"
    page_title = gettext_lazy("Your export")
    header_icon = "download"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        export = get_object_or_404(export_files_of(self.request.user), token=kwargs["token"])
        stale = export_file_is_stale(export)
        context.update(
            export=export,
            title=export_title(export),
            list_url=export_list_url(export),
            stale=stale,
            waiting=export.is_open and not stale,
            refresh_seconds=REFRESH_SECONDS,
        )
        return context

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse("training_my_exports"), "label": _("Your exports")},
            {"url": "", "label": self.get_page_title()},
        ]


class ExportFileDownloadView(LeadViewMixin, View):
    """The file, from storage through Pathways (never a public address), to its owner only."""

    def get(self, request: HttpRequest, token: Any) -> HttpResponse:
        export = get_object_or_404(export_files_of(request.user), token=token)
        if export.status != ExportFile.Status.READY or not export.file:
            return redirect("training_export_file", token=export.token)
        try:
            handle = export.file.open("rb")
        except OSError as exc:  # gone from storage before its time
            raise Http404("The file is no longer there.") from exc
        response = FileResponse(
            handle, as_attachment=True, filename=export.filename, content_type=XLSX
        )
        response["Cache-Control"] = "private, no-store"
        return response


def header_buttons() -> list[Button]:
    return [Button(_("Assign a course"), reverse("training_assign"), icon_name="plus")]
