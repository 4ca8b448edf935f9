"""The home page says what Pathways is and leads to sign-in; the base template is accessible."""

from __future__ import annotations

from django.core.management import CommandError, call_command

from officers.models import OfficerProfile, Unit, User
from pathways.demo import DEMO_PASSWORD


def test_home_page_leads_to_sign_in(client, home) -> None:
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "public-health approach to policing" in body
    assert 'href="/accounts/login/"' in body
    # Landmarks and a skip link for keyboard and screen-reader users.
    assert '<a class="skip-link" href="#main">' in body
    assert '<main id="main"' in body
    assert '<html lang="en-GB">' in body
    assert 'name="viewport"' in body


def test_sign_in_page_uses_the_site_layout(client, db) -> None:
    body = client.get("/accounts/login/").content.decode()
    assert '<main id="main"' in body
    assert "Skip to main content" in body
    assert 'name="login"' in body and 'name="password"' in body


def test_seed_demo_is_idempotent(db, settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (User.objects.count(), OfficerProfile.objects.count(), Unit.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), OfficerProfile.objects.count(), Unit.objects.count()) == counts
    assert counts[0] >= 30
    for local in ("recruit", "officer", "lead", "author", "admin"):
        assert User.objects.get(email=f"{local}@demo.police.uk").check_password(DEMO_PASSWORD)


def test_seed_demo_refuses_without_debug(db, settings) -> None:
    settings.DEBUG = False
    try:
        call_command("seed_demo")
    except CommandError as exc:
        assert "refuses to run when DEBUG is off" in str(exc)
    else:
        raise AssertionError("seed_demo ran with DEBUG off")
    assert not User.objects.exists()
    call_command("seed_demo", "--force")
    assert User.objects.filter(email="recruit@demo.police.uk").exists()
