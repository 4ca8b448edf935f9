"""Training leads' tools in the Wagtail admin, and a summary panel on the admin home page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.ui.components import Component

from training import admin_views as views
from training.matrix import completion_matrix


@hooks.register("register_admin_urls")
def training_urls() -> list[Any]:
    def listing(view: type, name: str) -> list[Any]:
        url_name = name.replace("-", "_")
        return [
            path(f"training/{name}/", view.as_view(), name=f"training_{url_name}"),
            path(
                f"training/{name}/results/",
                view.as_view(results_only=True),
                name=f"training_{url_name}_results",
            ),
        ]

    return [
        path("training/matrix/", views.MatrixView.as_view(), name="training_matrix"),
        path("training/assign/", views.AssignView.as_view(), name="training_assign"),
        path("training/time/", views.LessonTimeView.as_view(), name="training_time"),
        path(
            "training/officers/<int:user_id>/transcript/",
            views.TranscriptView.as_view(),
            name="training_transcript",
        ),
        *listing(views.OverdueView, "overdue"),
        *listing(views.ExpiringView, "expiring"),
        *listing(views.ExpiredView, "expired"),
        *listing(views.RevokedView, "revoked"),
        *listing(views.RemindersView, "reminders"),
        *listing(views.ExportLogView, "exports"),
        *listing(views.MyExportsView, "my-exports"),
        path(
            "training/my-exports/<uuid:token>/",
            views.ExportFileView.as_view(),
            name="training_export_file",
        ),
        path(
            "training/my-exports/<uuid:token>/download/",
            views.ExportFileDownloadView.as_view(),
            name="training_export_file_download",
        ),
    ]


class PermittedItem(MenuItem):
    def __init__(self, *args: Any, permission: str = views.VIEW_PERMISSION, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.permission = permission

    def is_shown(self, request: HttpRequest) -> bool:
        return request.user.has_perm(self.permission)


class TrainingMenuItem(SubmenuMenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return request.user.has_perm(views.VIEW_PERMISSION)


training_menu = Menu(
    register_hook_name="register_training_menu_item", construct_hook_name="construct_training_menu"
)


@hooks.register("register_admin_menu_item")
def register_training_menu() -> MenuItem:
    return TrainingMenuItem(_("Training"), training_menu, icon_name="table", order=150)


@hooks.register("register_training_menu_item")
def matrix_item() -> MenuItem:
    return PermittedItem(
        _("Completion matrix"), reverse("training_matrix"), icon_name="table", order=10
    )


@hooks.register("register_training_menu_item")
def time_item() -> MenuItem:
    return PermittedItem(_("Time on lessons"), reverse("training_time"), icon_name="time", order=15)


@hooks.register("register_training_menu_item")
def assign_item() -> MenuItem:
    return PermittedItem(
        _("Assign a course"),
        reverse("training_assign"),
        icon_name="plus",
        order=20,
        permission="training.add_assignmentrule",
    )


@hooks.register("register_training_menu_item")
def overdue_item() -> MenuItem:
    return PermittedItem(_("Overdue"), reverse("training_overdue"), icon_name="warning", order=30)


@hooks.register("register_training_menu_item")
def expiring_item() -> MenuItem:
    return PermittedItem(
        _("Expiring soon"), reverse("training_expiring"), icon_name="time", order=40
    )


@hooks.register("register_training_menu_item")
def expired_item() -> MenuItem:
    return PermittedItem(_("Expired"), reverse("training_expired"), icon_name="cross", order=50)


@hooks.register("register_training_menu_item")
def revoked_item() -> MenuItem:
    return PermittedItem(_("Revoked"), reverse("training_revoked"), icon_name="bin", order=60)


@hooks.register("register_training_menu_item")
def reminders_item() -> MenuItem:
    return PermittedItem(
        _("Reminders sent"), reverse("training_reminders"), icon_name="mail", order=70
    )


@hooks.register("register_training_menu_item")
def exports_item() -> MenuItem:
    return PermittedItem(
        _("Exports"),
        reverse("training_exports"),
        icon_name="download",
        order=80,
        permission="training.view_exportlog",
    )


@hooks.register("register_training_menu_item")
def my_exports_item() -> MenuItem:
    return PermittedItem(
        _("Your exports"), reverse("training_my_exports"), icon_name="download", order=85
    )


class TrainingPanel(Component):
    """My units' completion and what needs chasing, on the admin home page."""

    name = "pathways_training"
    order = 50
    template_name = "training/admin/home_panel.html"

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
        matrix = completion_matrix(self.request.user)
        return {"matrix": matrix}


@hooks.register("construct_homepage_panels")
def add_training_panel(request: HttpRequest, panels: list[Any]) -> None:
    if request.user.has_perm(views.VIEW_PERMISSION):
        panels.append(TrainingPanel(request))
