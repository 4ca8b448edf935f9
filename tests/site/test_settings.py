"""Settings come from the environment; production settings pass check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k9$Zq2!vR7@pL4#xT8&mW1^bN6*cY3(eH5)jF0_sD2+gA7=uK4",
    "DJANGO_ALLOWED_HOSTS": "pathways.example.police.uk",
    "PATHWAYS_BASE_URL": "https://pathways.example.police.uk",
}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PATHWAYS_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    clean["DJANGO_SETTINGS_MODULE"] = "pathways.settings"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def setting(name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    result = run_python(code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DJANGO_SETTINGS_MODULE": "pathways.settings",
            **PRODUCTION,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = run_python("import django; django.setup()", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_its_public_address() -> None:
    without = {k: v for k, v in PRODUCTION.items() if k != "PATHWAYS_BASE_URL"}
    result = run_python("import django; django.setup()", **without)
    assert result.returncode != 0
    assert "Set PATHWAYS_BASE_URL" in result.stderr
    assert setting("WAGTAILADMIN_BASE_URL", **PRODUCTION) == "'https://pathways.example.police.uk'"


def test_local_links_follow_the_port_make_run_serves_on() -> None:
    assert setting("WAGTAILADMIN_BASE_URL", DJANGO_DEBUG="1", PORT="8123") == (
        "'http://127.0.0.1:8123'"
    )


def test_local_defaults_are_safe_and_work() -> None:
    assert setting("DATABASES['default']['ENGINE']", DJANGO_DEBUG="1") == (
        "'django.db.backends.sqlite3'"
    )
    assert setting("SESSION_COOKIE_SECURE", DJANGO_DEBUG="1") == "False"
    assert setting("DEBUG", **PRODUCTION) == "False"
    assert setting("SESSION_COOKIE_SECURE", **PRODUCTION) == "True"
    assert setting("SECURE_HSTS_SECONDS", **PRODUCTION) == "31536000"


def test_database_url_selects_postgresql() -> None:
    engine = setting(
        "DATABASES['default']['ENGINE']",
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/pathways",
    )
    assert engine == "'django.db.backends.postgresql'"


def test_redis_url_gives_a_cache_shared_by_processes() -> None:
    backend = setting(
        "CACHES['default']['BACKEND']", DJANGO_DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/1"
    )
    assert backend == "'django.core.cache.backends.redis.RedisCache'"
    assert "LocMemCache" in setting("CACHES['default']['BACKEND']", DJANGO_DEBUG="1")


def test_staff_mfa_defaults_on_outside_debug() -> None:
    assert setting("PATHWAYS_REQUIRE_STAFF_MFA", **PRODUCTION) == "True"
    assert setting("PATHWAYS_REQUIRE_STAFF_MFA", DJANGO_DEBUG="1") == "False"
    assert setting("PATHWAYS_REQUIRE_STAFF_MFA", PATHWAYS_REQUIRE_STAFF_MFA="0", **PRODUCTION) == (
        "False"
    )


def test_signup_domains_from_environment() -> None:
    value = setting(
        "PATHWAYS_SIGNUP_DOMAINS",
        DJANGO_DEBUG="1",
        PATHWAYS_SIGNUP_DOMAINS="a.example, *.b.example",
    )
    assert value == "['a.example', '*.b.example']"


@pytest.mark.django_db
def test_security_headers_on_responses(client, home) -> None:
    response = client.get("/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe-inline" not in script_src
    assert "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_hsts_header_in_production() -> None:
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/admin/login/', secure=True, HTTP_HOST='pathways.example.police.uk');"
        "print(r.headers.get('Strict-Transport-Security'))"
    )
    result = run_python(code, **PRODUCTION)
    assert "max-age=31536000" in result.stdout, result.stderr[-2000:]


def test_no_configuration_means_local_development() -> None:
    assert setting("DEBUG") == "True"
    assert (
        setting("DEBUG", DJANGO_SECRET_KEY="x" * 50, PATHWAYS_BASE_URL="https://pathways.example")
        == "False"
    )
