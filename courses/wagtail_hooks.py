"""The final-assessment question bank in the Wagtail admin: a snippet with drafts and
revisions, and a report of how officers answer each question. Force-local information: a
snippet with drafts and revisions that training leads keep for the units they lead."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views import chooser as snippet_chooser
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from courses.assessment import bank_shortfalls, bank_statistics
from courses.models import AssessmentAnswer, BankQuestion, CoursePage, LocalInformation
from officers.models import Unit, User
from officers.selectors import units_visible_to, user_can_manage_unit
from scenarios.forms import SoundStreamsMixin

BANK_NS = "wagtailsnippets_courses_bankquestion"
REPORT_PERMISSION = "courses.change_bankquestion"


class BankQuestionForm(SoundStreamsMixin, WagtailAdminModelForm):
    """The editor's form. BankQuestion.clean() refuses a question officers could not answer
    correctly, with the reason shown beside the answers (a forged POST's answers read as none,
    which it refuses too)."""


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


# ------------------------------------------------------------------ force-local information
#
# Administrators manage every force's; a training lead only those of the units they lead
# (officers.selectors). Wagtail's snippet views check model permissions only, so the scope is
# applied four times: the permission policy (listing, bulk actions, buttons), a guard on every
# route that names an object (404 outside the scope), the chooser's lists, and the form's
# choice of unit.

LOCAL_DEPTHS = (1, 2)  # a force, or a division directly under it


def local_information_visible_to(user: User) -> QuerySet[LocalInformation]:
    """The local information a user may see and edit: all for administrators, else that of
    the units they lead and those under them."""
    items = LocalInformation.objects.select_related("unit")
    if user.is_superuser:
        return items
    return items.filter(unit__in=units_visible_to(user))


class LocalInformationPermissionPolicy(ModelPermissionPolicy):
    """Model permissions, and for each object the unit scope of the user."""

    def user_has_permission_for_instance(self, user: Any, action: str, instance: Any) -> bool:
        return self.user_has_permission(user, action) and user_can_manage_unit(user, instance.unit)

    def instances_user_has_any_permission_for(self, user: Any, actions: Any) -> Any:
        if not self.user_has_any_permission(user, actions):
            return LocalInformation.objects.none()
        return local_information_visible_to(user)


register_permission_policy(LocalInformation, LocalInformationPermissionPolicy(LocalInformation))


def _scoped_to_user(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A route naming a piece of local information answers 404 unless the user may manage
    its unit, whatever the view itself checks."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        pk = kwargs.get("pk")
        if pk is not None:
            try:
                found = local_information_visible_to(request.user).filter(pk=int(unquote(str(pk))))
            except ValueError:
                raise Http404 from None
            if not found.exists():
                raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _guard(urlpatterns: list[Any]) -> list[Any]:
    return [
        URLPattern(p.pattern, _scoped_to_user(p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern)
        else p
        for p in urlpatterns
    ]


def _local_unit_choices(request: HttpRequest | None) -> QuerySet[Unit]:
    if request is None:
        return Unit.objects.none()
    return units_visible_to(request.user).filter(depth__in=LOCAL_DEPTHS).order_by("path")


def _force_and_division_labels(units: QuerySet[Unit]) -> list[tuple[int, str]]:
    """(pk, "Force / Division") for forces and divisions, in tree order, in one query."""
    rows = list(units.filter(depth__in=LOCAL_DEPTHS).order_by("path"))
    forces = {u.path: u.name for u in Unit.objects.filter(depth=1)}
    step = Unit.steplen
    return [
        (u.pk, u.name if u.depth == 1 else f"{forces.get(u.path[:step], '?')} / {u.name}")
        for u in rows
    ]


class LocalInformationFilterSet(WagtailFilterSet):
    unit = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Force or division"), queryset=_local_unit_choices
    )

    class Meta:
        model = LocalInformation
        fields = ["kind", "unit"]


class LocalInformationForm(WagtailAdminModelForm):
    """The unit is one the user leads (or any, for administrators) and a force or a division;
    one text per unit and kind. Each refusal says what to do instead."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("unit")
        if field is None:
            return
        user = self.for_user
        units = units_visible_to(user) if user is not None else Unit.objects.none()
        # Any unit in scope is accepted here so that a team is refused with its own message
        # (clean_unit); only forces and divisions are offered.
        field.queryset = units
        field.error_messages["invalid_choice"] = _(
            "Choose a force or a division from the list: you can set local information only "
            "for the units you lead."
        )
        field.widget.choices = [("", "---------"), *_force_and_division_labels(units)]

    def clean_unit(self) -> Unit | None:
        unit = self.cleaned_data.get("unit")
        if unit is not None and unit.depth not in LOCAL_DEPTHS:
            raise forms.ValidationError(
                _(
                    "“%(unit)s” is a %(kind)s. Local information is set for a whole force or "
                    "for one of its divisions (every unit below sees it): choose the force or "
                    "the division it belongs to."
                )
                % {"unit": unit.name, "kind": unit.get_kind_display().lower()}
            )
        return unit

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        unit, kind = data.get("unit"), data.get("kind")
        if unit is not None and kind:
            taken = LocalInformation.objects.filter(unit=unit, kind=kind)
            if self.instance.pk is not None:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("kind", _duplicate_message(unit, kind))
        return data


def _duplicate_message(unit: Unit, kind: str) -> str:
    return _(
        "%(unit)s already has local information of this kind (“%(kind)s”): edit that one "
        "instead, or choose another kind."
    ) % {"unit": unit.name, "kind": LocalInformation.Kind(kind).label}


class _RefuseDuplicateOnSave:
    """Two editors saving the same unit and kind at once: the second is told, not a 500."""

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            return super().form_valid(form)  # type: ignore[misc]
        except IntegrityError:
            data = form.cleaned_data
            form.add_error("kind", _duplicate_message(data["unit"], data["kind"]))
            return self.form_invalid(form)  # type: ignore[attr-defined]


class LocalInformationCreateView(_RefuseDuplicateOnSave, snippet_views.CreateView):
    pass


class LocalInformationEditView(_RefuseDuplicateOnSave, snippet_views.EditView):
    pass


class LocalInformationIndexView(snippet_views.IndexView):
    def get_base_queryset(self) -> QuerySet[LocalInformation]:
        return local_information_visible_to(self.request.user)


class ScopedChooseMixin:
    request: Any

    def get_object_list(self) -> QuerySet[LocalInformation]:
        return local_information_visible_to(self.request.user)


class LocalInformationChooseView(ScopedChooseMixin, snippet_chooser.ChooseView):
    pass


class LocalInformationChooseResultsView(ScopedChooseMixin, snippet_chooser.ChooseResultsView):
    pass


class LocalInformationChosenView(snippet_chooser.SnippetChosenView):
    def get_object(self, pk: Any) -> LocalInformation:
        return local_information_visible_to(self.request.user).get(pk=pk)


class LocalInformationChosenMultipleView(snippet_chooser.SnippetChosenMultipleView):
    def get_objects(self, pks: Any) -> QuerySet[LocalInformation]:
        ids = [int(pk) for pk in pks if str(pk).isdigit()]
        return local_information_visible_to(self.request.user).filter(pk__in=ids)


class LocalInformationChooserViewSet(snippet_chooser.SnippetChooserViewSet):
    choose_view_class = LocalInformationChooseView
    choose_results_view_class = LocalInformationChooseResultsView
    chosen_view_class = LocalInformationChosenView
    chosen_multiple_view_class = LocalInformationChosenMultipleView

    def get_urlpatterns(self) -> list[Any]:
        return _guard(super().get_urlpatterns())


class LocalInformationViewSet(SnippetViewSet):
    model = LocalInformation
    icon = "home"
    menu_label = gettext_lazy("Local information")
    menu_order = 256
    add_to_admin_menu = True
    copy_view_enabled = False  # a copy would repeat the unit and kind, which is refused
    index_view_class = LocalInformationIndexView
    add_view_class = LocalInformationCreateView
    edit_view_class = LocalInformationEditView
    chooser_viewset_class = LocalInformationChooserViewSet
    filterset_class = LocalInformationFilterSet
    list_display = ["kind", "unit", "live"]
    search_fields = ["body"]
    edit_handler = ObjectList(
        [FieldPanel("unit"), FieldPanel("kind"), FieldPanel("body")],
        base_form_class=LocalInformationForm,
    )

    def get_urlpatterns(self) -> list[Any]:
        return _guard(super().get_urlpatterns())


register_snippet(LocalInformationViewSet)
