"""The final-assessment question bank in the Wagtail admin: a snippet with drafts and
revisions, and a report of how officers answer each question."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from courses.assessment import bank_shortfalls, bank_statistics
from courses.models import AssessmentAnswer, BankQuestion, CoursePage
from officers.selectors import units_visible_to

BANK_NS = "wagtailsnippets_courses_bankquestion"
REPORT_PERMISSION = "courses.change_bankquestion"


def _stream_count_is_sound(data: Any, prefix: str, limit: int = 100) -> bool:
    """Whether a posted StreamField's `<prefix>-count` is a small number and every child it
    counts was sent (as Wagtail's form widget always does)."""
    raw = data.get(f"{prefix}-count")
    if raw is None or not str(raw).isdigit() or int(raw) > limit:
        return False
    return all(
        f"{prefix}-{i}-deleted" in data and f"{prefix}-{i}-type" in data for i in range(int(raw))
    )


class BankQuestionForm(WagtailAdminModelForm):
    """The editor's form. BankQuestion.clean() refuses a question officers could not answer
    correctly, with the reason shown beside the answers."""

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # Wagtail's StreamBlock reads `options-count` and each child's fields unguarded: a
        # missing or malformed count, or a count naming children that were not sent, is a
        # KeyError or ValueError (a 500). Treat such a POST as no answers, which clean() refuses.
        if data is not None and not _stream_count_is_sound(data, "options"):
            data = data.copy()
            data["options-count"] = "0"
        super().__init__(data, *args, **kwargs)


class BankIndexView(IndexView):
    """The bank listing, warning authors of courses that ask more than their bank holds."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.results_only:
            for row in bank_shortfalls():
                messages.warning(
                    request,
                    _(
                        "“%(course)s” asks %(need)s questions per attempt but has %(have)s live "
                        "questions for its jurisdiction: officers get them all (or, with none, "
                        "cannot complete the course). Add and publish more."
                    )
                    % {"course": row["course"].title, "need": row["need"], "have": row["have"]},
                )
        return super().get(request, *args, **kwargs)


class ReportFilterForm(forms.Form):
    course = forms.TypedChoiceField(label=gettext_lazy("Course"), coerce=int)
    unit = forms.TypedChoiceField(label=gettext_lazy("Unit"), coerce=int, required=False)
    version = forms.ChoiceField(
        label=gettext_lazy("Versions"),
        required=False,
        choices=[
            ("all", gettext_lazy("All versions")),
            ("this", gettext_lazy("This version (the live one) only")),
        ],
    )

    def __init__(
        self,
        *args: Any,
        courses: list[tuple[int, str]],
        units: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["course"].choices = courses
        self.fields["unit"].choices = [("", _("All my units"))] + units


class BankReportView(WagtailAdminTemplateMixin, TemplateView):
    """Per question: answered, % right, how often each wrong answer was picked; counted over
    the viewer's units only (everything for superusers), as the scenario analytics are."""

    template_name = "courses/admin/bank_report.html"
    page_title = gettext_lazy("Assessment question report")
    header_icon = "view"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(REPORT_PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {"url": reverse(f"{BANK_NS}:list"), "label": _("Assessment questions")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        courses = list(
            CoursePage.objects.filter(bank_questions__isnull=False).distinct().order_by("title")
        )
        units = list(units_visible_to(user).order_by("path"))
        form = ReportFilterForm(
            self.request.GET or None,
            courses=[(c.pk, c.title) for c in courses],
            units=[(u.pk, u.full_name) for u in units],
        )
        report = None
        if form.is_valid():
            data = form.cleaned_data
            course = next(c for c in courses if c.pk == data["course"])
            unit = None
            if data.get("unit"):
                unit = next((u for u in units if u.pk == data["unit"]), None)
                if unit is None:
                    raise Http404
            answers = AssessmentAnswer.objects.all()
            if not user.is_superuser:
                answers = answers.filter(attempt__user__officer__unit__in=units_visible_to(user))
            report = bank_statistics(
                course=course,
                answers=answers,
                unit=unit,
                this_version=data.get("version") == "this",
            )
        context.update(form=form, report=report)
        return context


class BankQuestionViewSet(SnippetViewSet):
    model = BankQuestion
    icon = "help"
    menu_label = gettext_lazy("Assessment questions")
    menu_order = 255
    add_to_admin_menu = True
    index_view_class = BankIndexView
    list_display = ["__str__", "course", "module", "jurisdiction", "live"]
    list_filter = ["course", "module", "jurisdiction", "live"]
    search_fields = ["prompt"]
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [FieldPanel("course"), FieldPanel("module"), FieldPanel("jurisdiction")],
                heading=gettext_lazy("Where it is asked"),
            ),
            FieldPanel("prompt"),
            FieldPanel("multiple"),
            FieldPanel("options"),
        ],
        base_form_class=BankQuestionForm,
    )

    def get_urlpatterns(self) -> list[Any]:
        return [
            *super().get_urlpatterns(),
            path("report/", BankReportView.as_view(), name="report"),
        ]


register_snippet(BankQuestionViewSet)


class ReportMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REPORT_PERMISSION)


@hooks.register("register_reports_menu_item")
def bank_report_menu_item() -> MenuItem:
    return ReportMenuItem(
        _("Assessment questions"), reverse(f"{BANK_NS}:report"), icon_name="help", order=700
    )
