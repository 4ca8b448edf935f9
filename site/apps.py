from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.apps import AppConfig


class PathwaysConfig(AppConfig):
    name = "pathways"
    label = "pathways"
    verbose_name = "Pathways site"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        wagtail_exports_make_cell_safe()
        wagtail_choosers_refuse_creation_without_a_form()


def wagtail_exports_make_cell_safe() -> None:
    """Pass every cell of every Wagtail listing export through `training.exports.cell_safe`.

    Why a patch: Wagtail's own spreadsheet exports (SpreadsheetExportMixin: Reports > Site
    history and the other reports, any ModelViewSet/SnippetViewSet listing with `list_export`,
    form submissions) write text as it was entered, so a name starting with "=" becomes a
    formula in the CSV (formula injection), and Wagtail has no setting or hook to change how a
    cell is written. Every cell's value, for CSV and XLSX alike, comes out of
    `preprocess_field_value`, and every column heading out of `get_heading`: wrapping those two
    here, once at start-up, covers every listing, present and future. Our own lists subclass
    `training.exports.CellSafeExport` and are safe without this; `cell_safe` is idempotent, so
    going through both changes nothing. Remove this if Wagtail ever escapes cells itself.
    """
    from wagtail.admin.views.mixins import SpreadsheetExportMixin

    from training.exports import cell_safe

    def cell_safe_result(method: Callable[..., Any]) -> Callable[..., Any]:
        if getattr(method, "cell_safe", False):  # already wrapped (ready() ran twice)
            return method

        @wraps(method)
        def wrapper(self: SpreadsheetExportMixin, *args: Any, **kwargs: Any) -> Any:
            return cell_safe(method(self, *args, **kwargs))

        wrapper.cell_safe = True  # type: ignore[attr-defined]
        return wrapper

    for name in ("preprocess_field_value", "get_heading"):
        setattr(
            SpreadsheetExportMixin, name, cell_safe_result(getattr(SpreadsheetExportMixin, name))
        )


def wagtail_choosers_refuse_creation_without_a_form() -> None:
    """A chooser with no creation form (our snippet choosers: scenarios, assessment questions)
    refuses a POST to its "create" URL with 405 instead of failing with a 500.

    Why a patch: Wagtail's generic chooser CreateViewMixin.post calls `self.form.is_valid()`
    although `get_creation_form()` returns None when the chooser has no creation form, so any
    POST there by someone allowed to add the model is a 500 (seen in Wagtail 8). Remove this if
    Wagtail checks the form itself.
    """
    from django.http import HttpResponseNotAllowed
    from wagtail.admin.views.generic.chooser import CreateViewMixin

    post = CreateViewMixin.post
    if getattr(post, "refuses_without_form", False):  # ready() ran twice
        return

    @wraps(post)
    def refusing_post(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        if self.get_creation_form_class() is None:
            return HttpResponseNotAllowed(["GET"])
        return post(self, request, *args, **kwargs)

    refusing_post.refuses_without_form = True  # type: ignore[attr-defined]
    CreateViewMixin.post = refusing_post  # type: ignore[method-assign]
