"""Certificate pages: the officer's download, and the public verification page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from certificates.forms import VerifyForm, has_control_characters
from certificates.models import Certificate
from certificates.ratelimit import allow
from certificates.rendering import pdf_available
from certificates.rules import STATE_LABELS
from certificates.selectors import certificates_visible_to
from certificates.services import certificate_request_pdf


@login_required
@require_GET
def download_view(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = certificates_visible_to(request.user).filter(pk=pk).first()
    if certificate is None:  # someone else's certificate looks exactly like a missing one
        raise Http404("No such certificate.")
    if certificate.revoked_at is not None:
        # A revoked certificate proves nothing: its PDF is withheld, and the reason shown.
        return render(
            request, "certificates/revoked.html", {"certificate": certificate}, status=410
        )
    if not pdf_available(certificate):
        certificate_request_pdf(certificate)
        certificate.refresh_from_db()
        if not pdf_available(certificate):
            return render(
                request, "certificates/preparing.html", {"certificate": certificate}, status=202
            )
    response = FileResponse(
        certificate.pdf.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"{certificate.number}.pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _lookup(**match: str) -> Certificate | None:
    return (
        Certificate.objects.filter(**match)
        .only(
            "number",
            "code",
            "officer_name",
            "course_title",
            "issued_at",
            "expires_on",
            "refresher_window_days",
            "revoked_at",
            "superseded_by_id",
            "assessment_percent",
        )
        .first()
    )


def _verify_response(request: HttpRequest, certificate: Certificate | None, form: VerifyForm):
    """The same template and status whether or not the certificate exists."""
    state = certificate.state() if certificate else None
    context = {
        "certificate": certificate,
        "state": state,
        "state_label": STATE_LABELS.get(state, "") if state else "",
        "form": form,
        "checked": True,
    }
    response = render(request, "certificates/verify.html", context)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _rate_limited(request: HttpRequest) -> HttpResponse | None:
    if allow(request, action="verify", per_minute=settings.PATHWAYS_VERIFY_RATE_PER_MINUTE):
        return None
    return render(request, "certificates/too_many.html", status=429)


@require_GET
def verify_code_view(request: HttpRequest, code: str) -> HttpResponse:
    if (limited := _rate_limited(request)) is not None:
        return limited
    # A code holding a control character matches no certificate (and PostgreSQL refuses to
    # compare text holding NUL): the answer is the one for any unknown code.
    certificate = None if has_control_characters(code) else _lookup(code=code[:32])
    return _verify_response(request, certificate, VerifyForm())


@require_GET
def verify_form_view(request: HttpRequest) -> HttpResponse:
    if not request.GET:
        return render(request, "certificates/verify.html", {"form": VerifyForm(), "checked": False})
    if (limited := _rate_limited(request)) is not None:
        return limited
    form = VerifyForm(request.GET)
    if not form.is_valid():
        return render(
            request, "certificates/verify.html", {"form": form, "checked": False}, status=400
        )
    certificate = _lookup(number=form.cleaned_data["number"], code=form.cleaned_data["code"])
    return _verify_response(request, certificate, form)
