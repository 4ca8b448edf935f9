"""Training-lead views in the Wagtail admin: assign, matrix, lists, transcript, reminders.

Every view filters by the units the signed-in lead leads; exports stream and are logged.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
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
from training.exports import CellSafeExport, stream_csv, xlsx_file, xlsx_response
from training.filters import OverdueFilterSet, certificate_filterset
from training.forms import AssignForm
from training.matrix import (
    OFFICERS_PER_PAGE,
    completion_matrix,
    lesson_time_report,
    matrix_csv_rows,
)
from training.models import OFFICER_UNIT_PATH, Assignment, ExportLog, Reminder

VIEW_PERMISSION = "training.view_assignment"


def _scope(request: HttpRequest, field: str) -> Q:
    paths = led_unit_paths(request.user)
    return Q() if paths is None else subtree_q(paths, field)


def log_export(request: HttpRequest, what: str, export_format: str) -> None:
    filters = {k: v for k, v in request.GET.items() if k != "export"}
    ExportLog.objects.create(user=request.user, what=what, format=export_format, filters=filters)


class LeadViewMixin:
    permission = VIEW_PERMISSION
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class TrainingIndexView(LeadViewMixin, CellSafeExport, IndexView):
    """A scoped, filterable, exportable list (Wagtail's spreadsheet export, every cell safe)."""

    scope_field = OFFICER_UNIT_PATH
    export_name = "list"
    paginate_by = 50

    def get_base_queryset(self) -> QuerySet:
        return super().get_base_queryset().filter(_scope(self.request, self.scope_field))

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """An export goes straight from the filtered, ordered queryset to the file. Wagtail
        builds the listing's context first, whose `len()` of an unpaginated list loads every
        row into memory before the first byte (tens of seconds and hundreds of MB for a
        force's overdue list)."""
        if self.is_export:
            return self.as_spreadsheet(self.get_queryset(), request.GET["export"])
        return super().get(request, *args, **kwargs)

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
    list_export = ["user.email", "user.get_full_name", "course.title", "due_on", "started_at"]
    export_headings = {
        "user.email": "Email",
        "user.get_full_name": "Name",
        "course.title": "Course",
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
            .select_related("user", "course")
        )

    @property
    def columns(self) -> list[Any]:
        return [
            Column("user", label=_("Officer"), accessor="user"),
            Column("email", label=_("Email"), accessor="user.email"),
            Column("course", label=_("Course"), accessor="course"),
            DateColumn("due_on", label=_("Due on")),
            DateColumn("started_at", label=_("Started")),
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

    def certificates(self) -> QuerySet:
        """The certificates this list is about, before scope and filters."""
        return Certificate.objects.all()

    def get_base_queryset(self) -> QuerySet:
        return (
            self.certificates()
            .filter(_scope(self.request, self.scope_field))
            .select_related("user", "course")
            .order_by("expires_on")
        )

    @property
    def columns(self) -> list[Any]:
        return [
            Column("number", label=_("Number")),
            Column("officer_name", label=_("Officer")),
            Column("course_title", label=_("Course")),
            DateColumn("expires_on", label=_("Expires")),
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

    def get_base_queryset(self) -> QuerySet:
        return super().get_base_queryset().select_related("user", "outgoing_email")

    @property
    def columns(self) -> list[Any]:
        return [
            Column("user", label=_("Officer"), accessor="user"),
            Column("email", label=_("Email"), accessor="user.email"),
            Column("kind", label=_("Reminder"), accessor="get_kind_display"),
            Column("subject", label=_("Subject")),
            DateColumn("sent_at", label=_("Queued")),
            Column("status", label=_("Status"), accessor="delivery_status"),
            Column("error", label=_("Error"), accessor="delivery_error"),
        ]


class ExportLogView(LeadViewMixin, IndexView):
    model = ExportLog
    page_title = gettext_lazy("Exports")
    header_icon = "download"
    permission = "training.view_exportlog"
    index_url_name = "training_exports"
    index_results_url_name = "training_exports_results"
    paginate_by = 50

    @property
    def columns(self) -> list[Any]:
        return [
            Column("user", label=_("Who"), accessor="user"),
            Column("what", label=_("What")),
            Column("format", label=_("Format")),
            DateColumn("created_at", label=_("When")),
        ]


class MatrixView(LeadViewMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "training/admin/matrix.html"
    page_title = gettext_lazy("Completion matrix")
    header_icon = "table"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        unit = None
        if request.GET.get("unit"):
            unit_id = parse_id(request.GET["unit"])
            unit = get_object_or_404(Unit, pk=unit_id) if unit_id is not None else None
            if unit is None:
                return redirect("training_matrix")
        export = request.GET.get("export")
        exporting = export in ("csv", "xlsx")
        # A team's officers a page at a time on screen; every one of them in an export.
        self.matrix = completion_matrix(
            request.user,
            unit=unit,
            page=request.GET.get("page"),
            per_page=None if exporting else OFFICERS_PER_PAGE,
        )
        if exporting:
            log_export(request, "matrix", export)
            # A unit's name is user text: only its slug reaches the Content-Disposition header.
            name = "pathways-matrix" + (f"-{slugify(unit.name)[:60]}" if unit else "")
            rows = matrix_csv_rows(self.matrix)
            return stream_csv(rows, name) if export == "csv" else xlsx_file(rows, name)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["matrix"] = self.matrix
        params = self.request.GET.copy()
        params.pop("page", None)  # an export is of the whole team
        for fmt in ("csv", "xlsx"):
            params["export"] = fmt
            context[f"{fmt}_url"] = f"{self.request.path}?{params.urlencode()}"
        page = self.matrix.officer_page
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


def header_buttons() -> list[Button]:
    return [Button(_("Assign a course"), reverse("training_assign"), icon_name="plus")]
