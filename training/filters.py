"""Filters for the training-lead lists; unit choices are limited to the lead's own units."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from certificates.models import Certificate
from courses.models import CoursePage
from officers.selectors import units_visible_to
from training.models import OFFICER_UNIT_PATH, Assignment


def _units(request: Any) -> QuerySet:
    return units_visible_to(request.user).order_by("path") if request else None


class UnitCourseFilterSet(WagtailFilterSet):
    unit_field = OFFICER_UNIT_PATH  # the officer's current unit, for every list
    unit = django_filters.ModelChoiceFilter(
        label=_("Unit"), queryset=_units, method="filter_unit", empty_label=_("All my units")
    )
    course = django_filters.ModelChoiceFilter(
        label=_("Course"), queryset=CoursePage.objects.live().order_by("title")
    )

    def filter_unit(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return (
            queryset.filter(**{f"{self.unit_field}__startswith": value.path}) if value else queryset
        )


class OverdueFilterSet(UnitCourseFilterSet):
    due_on = django_filters.DateFromToRangeFilter(
        label=_("Due between"), widget=DateRangePickerWidget
    )

    class Meta:
        model = Assignment
        fields = ["unit", "course", "due_on"]


def certificate_filterset(date_field: str, label: str) -> type[UnitCourseFilterSet]:
    class CertificateFilterSet(UnitCourseFilterSet):
        class Meta:
            model = Certificate
            fields = ["unit", "course"]

    CertificateFilterSet.base_filters[date_field] = django_filters.DateFromToRangeFilter(
        field_name=date_field, label=label, widget=DateRangePickerWidget
    )
    return CertificateFilterSet
