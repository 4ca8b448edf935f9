"""Site-wide views: the only way into the Wagtail admin is allauth's sign-in."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET


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
