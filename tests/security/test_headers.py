"""Security headers on every kind of response, not just the home page.

HSTS (production only: DEBUG off and HTTPS) and `check --deploy` are tested in
tests/site/test_settings.py (test_hsts_header_in_production,
test_check_deploy_is_clean_under_production_settings); see test_references.py.
"""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client

from courses.models import LessonPage
from tests.security.conftest import signed_in


def directives(csp: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = words[1:]
    return parsed


def assert_secure_headers(response: HttpResponse, what: str) -> None:
    csp = response.get("Content-Security-Policy")
    assert csp, f"{what}: no Content-Security-Policy"
    policy = directives(csp)
    script_src = policy.get("script-src", policy.get("default-src"))
    assert script_src, f"{what}: neither script-src nor default-src"
    assert "'unsafe-inline'" not in script_src, what
    assert "'unsafe-eval'" not in script_src, what
    assert "*" not in script_src and "data:" not in script_src, what
    assert policy.get("frame-ancestors") == ["'none'"], what
    assert policy.get("object-src") == ["'none'"], what
    assert response.get("X-Frame-Options") == "DENY", what
    assert response.get("Referrer-Policy") == "same-origin", what
    assert response.get("X-Content-Type-Options") == "nosniff", what


def test_headers_on_public_pages(home, certified) -> None:
    anonymous = Client()
    pages = {
        "home": anonymous.get("/"),
        "sign-in": anonymous.get("/accounts/login/"),
        "verification": anonymous.get(f"/certificates/verify/{certified.code}/"),
        "verification form": anonymous.get("/certificates/verify/"),
        "not found": anonymous.get("/no-such-page/"),
        "sign-in redirect": anonymous.get("/learning/"),
    }
    assert pages["not found"].status_code == 404
    assert pages["sign-in redirect"].status_code == 302
    for what, response in pages.items():
        assert_secure_headers(response, what)


def test_headers_on_learner_pages(learner, course, certified, scenario) -> None:
    client = signed_in(learner)
    lesson = LessonPage.objects.live().descendant_of(course).order_by("path").first()
    pages = {
        "lesson": client.get(lesson.url),
        "course": client.get(course.url),
        "my learning": client.get("/learning/"),
        "certificate PDF": client.get(f"/certificates/{certified.pk}/download/"),
        "method not allowed": client.get(f"/scenarios/{scenario.pk}/start/"),
        "learner 404": client.get("/scenarios/attempts/999999/"),
    }
    assert pages["lesson"].status_code == 200
    assert pages["certificate PDF"].status_code == 200
    assert pages["method not allowed"].status_code == 405
    for what, response in pages.items():
        assert_secure_headers(response, what)


def test_headers_on_admin_pages(administrator, no_staff_mfa, certified) -> None:
    client = signed_in(administrator)
    pages = {
        "dashboard": client.get("/admin/"),
        "officers": client.get("/admin/officers/"),
        "officer import": client.get("/admin/officers/import/"),
        "revoke form": client.get(f"/admin/certificates/revoke/{certified.pk}/"),
        "admin 404": client.get("/admin/officers/inspect/999999/"),
    }
    assert pages["dashboard"].status_code == 200
    assert pages["admin 404"].status_code == 404
    for what, response in pages.items():
        assert_secure_headers(response, what)


def test_headers_on_refusals(learner, course) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)
    lesson = LessonPage.objects.live().descendant_of(course).order_by("path").first()
    csrf = strict.post(f"/learning/lessons/{lesson.pk}/complete/")
    assert csrf.status_code == 403
    assert_secure_headers(csrf, "CSRF failure")


@pytest.mark.parametrize("path", ["/accounts/login/", "/certificates/verify/"])
def test_pages_with_forms_send_no_inline_script(path: str, db) -> None:  # noqa: ANN001
    """The CSP forbids inline scripts: the pages themselves must not rely on any."""
    import re

    body = Client().get(path).content.decode()
    inline = [s for s in re.findall(r"<script\b([^>]*)>", body) if "src=" not in s]
    assert not inline, inline
    assert not re.search(r"\son[a-z]+\s*=", body), "inline event handler"
