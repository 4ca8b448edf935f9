"""No form, admin form or import accepts more text than the database column that stores it:
on PostgreSQL a longer value is a 500, on SQLite it is silently stored too long."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from django import forms
from django.apps import apps
from django.db import models
from wagtail.admin.panels import get_edit_handler
from wagtail.models import Page
from wagtail.snippets.models import get_snippet_models

import certificates.forms
import officers.forms
import scenarios.forms
import training.forms
from certificates.models import Certificate
from officers import imports as officer_import
from officers.models import OfficerProfile, Unit, User
from scenarios import engine
from scenarios.models import Scenario

OUR_APPS = ("officers", "courses", "scenarios", "certificates", "training")
FORM_MODULES = (officers.forms, certificates.forms, training.forms, scenarios.forms)
# Plain (non-model) form fields that end up in a column, and that column.
PLAIN_FIELDS = {
    ("VerifyForm", "number"): Certificate._meta.get_field("number"),
    ("VerifyForm", "code"): Certificate._meta.get_field("code"),
}


def _column(model: type[models.Model], name: str) -> models.Field | None:
    try:
        field = model._meta.get_field(name)
    except Exception:  # noqa: BLE001  (a form field with no model field behind it)
        return None
    return field if isinstance(field, models.Field) else None


def _admin_form_classes() -> Iterator[tuple[str, type[forms.BaseForm], type[models.Model]]]:
    our_models = [m for label in OUR_APPS for m in apps.get_app_config(label).get_models()]
    for model in our_models:
        if issubclass(model, Page):
            yield model.__name__, get_edit_handler(model).get_form_class(), model
    for model in get_snippet_models():
        if model._meta.app_label in OUR_APPS:
            yield model.__name__, model.snippet_viewset.get_edit_handler().get_form_class(), model


def _too_long(form_class: type[forms.BaseForm], model: type[models.Model] | None) -> list[str]:
    wrong = []
    for name, field in form_class.base_fields.items():
        column = PLAIN_FIELDS.get((form_class.__name__, name))
        if column is None and model is not None:
            column = _column(model, name)
        column_length = getattr(column, "max_length", None)
        if column is None or column_length is None or not isinstance(column, models.CharField):
            continue
        if isinstance(field, forms.ChoiceField):
            continue  # only the choices can be sent, and they fit (a model check)
        form_length = getattr(field, "max_length", None)
        if form_length is None or form_length > column_length:
            wrong.append(
                f"{form_class.__name__}.{name}: form {form_length}, column {column_length}"
            )
    return wrong


def test_our_forms_accept_no_more_than_their_columns() -> None:
    checked, wrong = 0, []
    for module in FORM_MODULES:
        for _, form_class in inspect.getmembers(module, inspect.isclass):
            if (
                not issubclass(form_class, forms.BaseForm)
                or form_class.__module__ != module.__name__
            ):
                continue
            model = getattr(getattr(form_class, "_meta", None), "model", None)
            wrong += _too_long(form_class, model)
            checked += 1
    assert checked >= 6
    assert wrong == []


@pytest.mark.django_db
def test_the_admin_forms_of_our_pages_and_snippets_accept_no_more_than_their_columns() -> None:
    seen = {name for name, _, _ in _admin_form_classes()}
    assert {"CoursePage", "ModulePage", "LessonPage", "Scenario"} <= seen
    wrong = [
        w for _, form_class, model in _admin_form_classes() for w in _too_long(form_class, model)
    ]
    assert wrong == []


def test_the_officer_import_and_the_scenario_format_know_the_column_lengths() -> None:
    assert User._meta.get_field("email").max_length >= officer_import.MAX_EMAIL
    assert User._meta.get_field("first_name").max_length >= officer_import.MAX_NAME
    assert User._meta.get_field("last_name").max_length >= officer_import.MAX_NAME
    assert OfficerProfile._meta.get_field("rank").max_length >= officer_import.MAX_RANK
    assert Unit._meta.get_field("name").max_length >= officer_import.MAX_UNIT_NAME
    service_number = OfficerProfile._meta.get_field("service_number").max_length
    assert service_number >= officer_import.MAX_SERVICE_NUMBER
    assert not officer_import.SERVICE_NUMBER_RE.match("A" * (service_number + 1))
    assert Scenario._meta.get_field("title").max_length >= engine.MAX_TITLE
    # The unit tree's materialised path holds the deepest path the import accepts.
    depth = officer_import.MAX_UNIT_DEPTH + 1  # the force, then the levels under it
    assert depth * Unit.steplen <= Unit._meta.get_field("path").max_length
