"""Sign-up, sign-in, email verification, password reset, MFA and sessions (allauth)."""

from __future__ import annotations

import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from officers.middleware import SIGNED_IN_AT
from officers.models import Invitation, User
from officers.rules import domain_allowed
from tests.factories import PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase-42"


def signup(client: Client, email: str):  # noqa: ANN201
    return client.post(
        "/accounts/signup/", {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )


def sign_in(client: Client, email: str, password: str = PASSWORD):  # noqa: ANN201
    return client.post("/accounts/login/", {"login": email, "password": password})


def link_in(message) -> str:  # noqa: ANN001
    line = next(li for li in message.body.splitlines() if "/accounts/" in li)
    return "/accounts/" + line.split("/accounts/", 1)[1].strip()


# ---------------------------------------------------------------- domain rule


@pytest.mark.parametrize(
    ("email", "allowed"),
    [
        ("pc@police.scot", True),
        ("PC@Police.Scot", True),
        ("pc@met.police.uk", True),
        ("pc@a.b.police.uk", True),
        ("pc@police.uk", False),
        ("pc@evilpolice.uk", False),
        ("pc@police.uk.evil.com", False),
        ("pc@notpolice.scot", False),
        ("pc@gmail.com", False),
        ("not-an-email", False),
    ],
)
def test_domain_rule(email: str, allowed: bool) -> None:
    assert domain_allowed(email, ["police.scot", "*.police.uk"]) is allowed


# ---------------------------------------------------------------- sign-up


def test_signup_with_a_police_address_needs_verification_then_signs_in(client, db) -> None:
    response = signup(client, "new.officer@police.scot")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="new.officer@police.scot")
    assert not EmailAddress.objects.get(user=user).verified
    # Unverified: signing in is held until the address is confirmed.
    other = Client()
    assert sign_in(other, user.email, NEW_PASSWORD)["Location"] == "/accounts/confirm-email/"
    # The link in the email verifies the address.
    confirm = link_in(mail.outbox[-1])
    response = client.post(confirm)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert sign_in(Client(), user.email, NEW_PASSWORD)["Location"] == "/"


def test_signup_outside_the_allowed_domains_is_refused_clearly(client, db) -> None:
    response = signup(client, "someone@gmail.com")
    assert response.status_code == 200
    assert "open to police email addresses only" in response.content.decode()
    assert not User.objects.filter(email="someone@gmail.com").exists()
    assert mail.outbox == []


def test_signup_domains_come_from_settings(client, db, settings) -> None:
    settings.PATHWAYS_SIGNUP_DOMAINS = ["college.example"]
    assert signup(client, "a@college.example").status_code == 302
    assert signup(Client(), "b@police.scot").status_code == 200
    assert not User.objects.filter(email="b@police.scot").exists()


def test_invited_address_may_sign_up_and_the_invitation_is_used(client, db) -> None:
    Invitation.objects.create(email="Trainer@University.example")
    assert signup(client, "trainer@university.example").status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.accepted_at is not None
    # Used once: the same address cannot sign up again after deleting its account.
    User.objects.filter(email="trainer@university.example").delete()
    assert signup(Client(), "trainer@university.example").status_code == 200


# ---------------------------------------------------------------- sign-in, reset


def test_sign_in_and_wrong_password(client, learner) -> None:
    response = sign_in(client, learner.email, "wrong-password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    response = sign_in(client, learner.email.upper())
    assert response.status_code == 302
    assert client.session[SIGNED_IN_AT] > 0


def test_failed_sign_ins_are_rate_limited(client, learner) -> None:
    for _ in range(5):
        sign_in(client, learner.email, "wrong-password")
    response = sign_in(client, learner.email)  # right password, but locked for now
    assert response.status_code in (200, 429)
    assert "too many" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email(client, learner) -> None:
    response = client.post("/accounts/password/reset/", {"email": learner.email})
    assert response.status_code == 302
    follow = client.get(link_in(mail.outbox[-1]), follow=True)
    assert follow.status_code == 200
    form_url = follow.redirect_chain[-1][0]
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    learner.refresh_from_db()
    assert learner.check_password(NEW_PASSWORD)


def test_reset_for_an_unknown_address_does_not_reveal_it(client, db) -> None:
    response = client.post("/accounts/password/reset/", {"email": "nobody@police.scot"})
    assert response.status_code == 302  # same answer as for a real account


# ---------------------------------------------------------------- MFA


def current_code(secret: str) -> str:
    counter = next(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counter))


def reauthenticate(client: Client, password: str = PASSWORD) -> None:
    """allauth asks for the password again before MFA changes."""
    response = client.post("/accounts/reauthenticate/", {"password": password})
    assert response.status_code == 302


def test_totp_setup_with_recovery_codes(client, learner) -> None:
    sign_in(client, learner.email)
    response = client.get("/accounts/2fa/totp/activate/")
    assert response["Location"].startswith("/accounts/reauthenticate/")
    reauthenticate(client)
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post("/accounts/2fa/totp/activate/", {"code": "123456"})
    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=learner).exists()
    response = client.post("/accounts/2fa/totp/activate/", {"code": current_code(secret)})
    assert response.status_code == 302
    types = set(Authenticator.objects.filter(user=learner).values_list("type", flat=True))
    assert types == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
    # Signing in now asks for a code after the password.
    other = Client()
    response = sign_in(other, learner.email)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    response = other.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert "_auth_user_id" not in other.session
    # A recovery code works once.
    codes = (
        Authenticator.objects.get(user=learner, type=Authenticator.Type.RECOVERY_CODES)
        .wrap()
        .get_unused_codes()
    )
    response = other.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert response.status_code == 302
    assert other.session["_auth_user_id"] == str(learner.pk)


def give_totp(user: User) -> None:
    TOTP.activate(user, generate_totp_secret())


def test_staff_must_set_up_mfa_when_required(client, north_lead, settings) -> None:
    settings.PATHWAYS_REQUIRE_STAFF_MFA = True
    sign_in(client, north_lead.email)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    # The set-up page itself stays reachable.
    reauthenticate(client)
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    give_totp(north_lead)
    assert client.get("/admin/").status_code == 200


def test_administrators_and_authors_need_mfa_too(client, administrator, settings) -> None:
    settings.PATHWAYS_REQUIRE_STAFF_MFA = True
    client.force_login(administrator)
    assert client.get("/")["Location"] == "/accounts/2fa/totp/activate/"


def test_learners_do_not_need_mfa(client, learner, home, settings) -> None:
    settings.PATHWAYS_REQUIRE_STAFF_MFA = True
    client.force_login(learner)
    assert client.get("/").status_code == 200


def test_mfa_requirement_can_be_switched_off(client, north_lead, settings) -> None:
    settings.PATHWAYS_REQUIRE_STAFF_MFA = False
    client.force_login(north_lead)
    assert client.get("/admin/").status_code == 200


def test_admin_signs_in_through_allauth(client, db) -> None:
    response = client.get("/admin/login/?next=/admin/pages/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/pages/"
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


# ---------------------------------------------------------------- sessions


def signed_in_client(user: User, agent: str) -> Client:
    c = Client(HTTP_USER_AGENT=agent)
    assert sign_in(c, user.email).status_code == 302
    c.get("/accounts/sessions/")
    return c


def test_officer_lists_and_ends_their_own_sessions(learner, home) -> None:
    phone = signed_in_client(learner, "Phone")
    desktop = signed_in_client(learner, "Desktop")
    page = desktop.get("/accounts/sessions/").content.decode()
    assert "Phone" in page and "Desktop" in page
    response = desktop.post("/accounts/sessions/", {"action": "logout"})
    assert response.status_code == 302
    assert UserSession.objects.filter(user=learner).count() == 1
    assert "_auth_user_id" not in phone.get("/").wsgi_request.session
    assert desktop.get("/").wsgi_request.user == learner


def test_signing_out_ends_every_session(learner, home) -> None:
    phone = signed_in_client(learner, "Phone")
    desktop = signed_in_client(learner, "Desktop")
    desktop.post("/accounts/logout/")
    assert not phone.get("/").wsgi_request.user.is_authenticated
    assert UserSession.objects.filter(user=learner).count() == 0


def test_changing_the_password_ends_other_sessions(learner, home) -> None:
    phone = signed_in_client(learner, "Phone")
    desktop = signed_in_client(learner, "Desktop")
    response = desktop.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert desktop.get("/").wsgi_request.user.is_authenticated
    assert not phone.get("/").wsgi_request.user.is_authenticated


def test_deactivating_an_account_ends_its_sessions(learner, home) -> None:
    phone = signed_in_client(learner, "Phone")
    learner.is_active = False
    learner.save()
    assert not phone.get("/").wsgi_request.user.is_authenticated
    assert not Session.objects.exists()


def test_absolute_session_lifetime(learner, home, settings) -> None:
    settings.PATHWAYS_SESSION_ABSOLUTE_SECONDS = 60
    phone = signed_in_client(learner, "Phone")
    assert phone.get("/").wsgi_request.user.is_authenticated
    session = phone.session
    session[SIGNED_IN_AT] = time.time() - 61
    session.save()
    response = phone.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")
    assert not phone.get("/").wsgi_request.user.is_authenticated


def test_idle_timeout_is_djangos_session_age(settings) -> None:
    assert 0 < settings.PATHWAYS_ACTIVITY_WRITE_SECONDS < settings.SESSION_COOKIE_AGE
    assert settings.SESSION_COOKIE_AGE < settings.PATHWAYS_SESSION_ABSOLUTE_SECONDS


def test_activity_is_written_at_most_once_an_interval(learner, home, settings) -> None:
    """A signed-in page view does not write the session or allauth's session list every
    time; after the interval it does, moving the idle expiry on."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from officers.middleware import SEEN_AT

    phone = Client()
    phone.post("/accounts/login/", {"login": learner.email, "password": PASSWORD})
    phone.get("/")  # the first page after sign-in writes the activity
    key = phone.session.session_key
    seen = UserSession.objects.get(session_key=key).last_seen_at

    def writes(path: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert phone.get(path).status_code == 200
        return [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))
        ]

    assert writes("/") == [] and writes("/learning/") == []
    session = phone.session
    session[SEEN_AT] = time.time() - settings.PATHWAYS_ACTIVITY_WRITE_SECONDS - 1
    session.save()
    before = Session.objects.get(session_key=key).expire_date
    assert writes("/") != []
    assert UserSession.objects.get(session_key=key).last_seen_at > seen
    assert Session.objects.get(session_key=key).expire_date > before


def test_logout_needs_post_with_csrf(learner, home) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(learner)
    c.get("/accounts/logout/")  # a GET shows a confirmation, it does not sign out
    assert c.get("/").wsgi_request.user.is_authenticated
    assert c.post("/accounts/logout/").status_code == 403
    assert c.get("/").wsgi_request.user.is_authenticated


def test_administrator_invites_an_address_by_email(client, administrator, no_staff_mfa) -> None:
    client.force_login(administrator)
    response = client.post("/admin/invitations/new/", {"email": "Trainer@University.example"})
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.email == "trainer@university.example"
    assert invitation.invited_by == administrator
    assert mail.outbox[-1].to == ["trainer@university.example"]
    assert "/accounts/signup/" in mail.outbox[-1].body
    response = client.post("/admin/invitations/new/", {"email": "not an email"})
    assert response.status_code == 200
    assert Invitation.objects.count() == 1
