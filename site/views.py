"""Site-wide views: the only way into the Wagtail admin is allauth's sign-in; health checks."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_tasks_db.models import DBTaskResult


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.GET.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else default


@require_GET
def sign_in_redirect_view(request: HttpRequest) -> HttpResponse:
    """Wagtail's own sign-in routes (the admin's and the front end's) lead to allauth's, so
    that MFA, rate limits and email verification always apply.

    A signed-in officer sent here by the admin (because they may not use it) sees why instead
    of being sent round between the admin and the sign-in page.
    """
    target = _safe_next(request, reverse("wagtailadmin_home"))
    if request.user.is_authenticated:
        return render(request, "admin_refused.html", status=403)
    return redirect(f"{reverse('account_login')}?{urlencode({'next': target}, safe='/')}")


@require_GET
def password_reset_redirect_view(request: HttpRequest) -> HttpResponse:
    """Wagtail's admin password reset is off; resetting a password is allauth's job."""
    return redirect("account_reset_password")


def not_found_view(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Wagtail's test routes (`failwhale/`, which raises on purpose, and `test404/`) are not
    served: a 500 on demand is no use in production and noise in the logs."""
    raise Http404


# ------------------------------------------------------------------------------ health


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def _cache_ok() -> bool:
    key = f"pathways:health:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", timeout=10)
        ok = cache.get(key) == "ok"
        cache.delete(key)
        return ok
    except Exception:  # noqa: BLE001  (any cache backend's own error means "not ready")
        return False


def _oldest_waiting_task_seconds() -> int | None:
    oldest = (
        DBTaskResult.objects.ready()
        .order_by("enqueued_at")
        .values_list("enqueued_at", flat=True)
        .first()
    )
    return None if oldest is None else int((timezone.now() - oldest).total_seconds())


@never_cache
@require_GET
def health_view(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database and the cache answer (503 otherwise). For a load
    balancer's health check; it also reports the background-task backlog."""
    checks = {"database": _database_ok(), "cache": _cache_ok()}
    body: dict[str, object] = {"status": "ok" if all(checks.values()) else "unavailable"}
    body.update({name: "ok" if ok else "failing" for name, ok in checks.items()})
    if checks["database"]:
        body["tasks_waiting"] = DBTaskResult.objects.ready().count()
        body["oldest_task_waiting_seconds"] = _oldest_waiting_task_seconds()
    return JsonResponse(body, status=200 if all(checks.values()) else 503)


@never_cache
@require_GET
def worker_health_view(request: HttpRequest) -> JsonResponse:
    """The task worker keeps up: no task has waited longer than
    PATHWAYS_HEALTH_TASK_WAIT_SECONDS (503 otherwise, or when the database is down). For
    monitoring, not for the load balancer: the site serves pages without a worker."""
    if not _database_ok():
        return JsonResponse({"status": "unavailable", "database": "failing"}, status=503)
    waited = _oldest_waiting_task_seconds()
    limit = settings.PATHWAYS_HEALTH_TASK_WAIT_SECONDS
    late = waited is not None and waited > limit
    body = {
        "status": "late" if late else "ok",
        "oldest_task_waiting_seconds": waited,
        "limit_seconds": limit,
    }
    return JsonResponse(body, status=503 if late else 200)
