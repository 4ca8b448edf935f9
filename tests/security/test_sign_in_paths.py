"""One sign-in path (allauth's), a lockout that no Host header resets, links only from
PATHWAYS_BASE_URL, email changes only through allauth, and no admin test routes."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client

from officers.models import Role, User
from tests.factories import PASSWORD, make_officer

BASE = "https://pathways.example.police.uk"


@pytest.fixture
def lead_with_mfa(org, settings) -> User:  # noqa: ANN001
    settings.PATHWAYS_REQUIRE_STAFF_MFA = True
    lead = make_officer(unit=org.north, role=Role.TRAINING_LEAD, leads=[org.north])
    Authenticator.objects.create(user=lead, type=Authenticator.Type.TOTP, data={"secret": "x"})
    return lead


@pytest.mark.parametrize("path", ["/_util/login/", "/admin/login/"])
def test_wagtails_sign_in_routes_lead_to_allauth_and_sign_nobody_in(
    path: str, lead_with_mfa: User
) -> None:
    client = Client()
    response = client.post(path, {"username": lead_with_mfa.email, "password": PASSWORD})
    assert response.status_code == 405  # nothing is accepted there
    assert "_auth_user_id" not in client.session
    response = client.get(f"{path}?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
    # The admin itself is behind allauth's sign-in and the MFA step.
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/training/matrix/?export=csv").status_code == 302


def test_a_sign_in_on_allauth_still_asks_the_lead_for_the_code(lead_with_mfa: User) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"login": lead_with_mfa.email, "password": PASSWORD})
    assert response.status_code == 302 and "/accounts/2fa/authenticate/" in response["Location"]
    assert "_auth_user_id" not in client.session


def test_an_external_next_is_not_followed() -> None:
    response = Client().get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_wagtails_admin_password_reset_is_allauths(learner: User) -> None:
    client = Client()
    response = client.get("/admin/password_reset/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/"
    client.post("/admin/password_reset/", {"email": learner.email})
    assert mail.outbox == []


def test_a_signed_in_learner_who_opens_the_admin_is_told_why_not_sent_round(
    learner: User,
) -> None:
    client = Client()
    client.force_login(learner)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert len(response.redirect_chain) == 1
    assert "No access to the admin" in response.content.decode()


@pytest.mark.parametrize("path", ["/admin/failwhale/", "/admin/test404/"])
def test_wagtails_test_routes_are_not_served(path: str, administrator: User, no_staff_mfa) -> None:  # noqa: ANN001
    client = Client(raise_request_exception=False)
    client.force_login(administrator)
    assert client.get(path).status_code == 404


def test_changing_the_port_in_host_does_not_reset_the_lockout(learner: User) -> None:
    for port in range(5):
        Client().post(
            "/accounts/login/",
            {"login": learner.email, "password": "wrong"},
            HTTP_HOST=f"127.0.0.1:{8000 + port}",
        )
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"login": learner.email, "password": PASSWORD},
        HTTP_HOST="127.0.0.1:9999",
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)


def _links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def test_password_reset_links_come_from_the_setting_not_the_host(learner: User, settings) -> None:  # noqa: ANN001
    settings.WAGTAILADMIN_BASE_URL = BASE
    Client().post("/accounts/password/reset/", {"email": learner.email}, HTTP_HOST="localhost:6666")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    links = _links(message.body)
    assert links and all(link.startswith(BASE + "/") for link in links), links
    assert "localhost" not in message.body and "6666" not in message.body


def test_unknown_account_and_verification_emails_link_to_the_setting(db, settings) -> None:  # noqa: ANN001
    settings.WAGTAILADMIN_BASE_URL = BASE
    Client().post(
        "/accounts/password/reset/", {"email": "nobody@police.scot"}, HTTP_HOST="localhost:6666"
    )
    Client().post(
        "/accounts/signup/",
        {"email": "new.officer@police.scot", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_HOST="localhost:6666",
    )
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert "localhost" not in message.body and "6666" not in message.body
        assert all(link.startswith(BASE + "/") for link in _links(message.body))


def test_staff_cannot_change_their_email_in_wagtails_account_page(
    administrator: User, no_staff_mfa
) -> None:  # noqa: ANN001
    client = Client()
    client.force_login(administrator)
    page = client.get("/admin/account/").content.decode()
    assert 'name="email-email"' not in page and 'name="password-new_password1"' not in page
    client.post(
        "/admin/account/",
        {
            "name-first_name": "Changed",
            "name-last_name": "Name",
            "email-email": "attacker@evil.example",
            "locale-preferred_language": "en",
            "locale-current_time_zone": "",
            "theme-theme": "system",
            "theme-density": "default",
            "theme-contrast": "system",
            "theme-keyboard_shortcuts": "on",
        },
    )
    administrator.refresh_from_db()
    assert administrator.email != "attacker@evil.example"
