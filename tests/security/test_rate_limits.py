"""Rate limits: sign-in, sign-up, password reset (allauth's) and certificate checks (ours).

Every limit lives in the cache; the root conftest clears it before each test.
"""

from __future__ import annotations

from django.conf import settings
from django.core import mail
from django.test import Client

from officers.models import User
from tests.factories import PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase-42"


def sign_in(client: Client, email: str, password: str = PASSWORD):  # noqa: ANN201
    return client.post("/accounts/login/", {"login": email, "password": password})


def signed_in_as(client: Client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


def test_settings_hold_the_limits_we_rely_on() -> None:
    limits = settings.ACCOUNT_RATE_LIMITS
    assert limits["login_failed"].startswith("5/5m/key")
    assert limits["signup"] == "10/h/ip"
    assert "5/h/key" in limits["reset_password"]
    assert settings.PATHWAYS_VERIFY_RATE_PER_MINUTE > 0


def test_wrong_passwords_lock_the_account_even_against_the_right_one(
    learner, other_learner
) -> None:
    client = Client()
    for _ in range(5):
        response = sign_in(client, learner.email, "wrong-password")
        assert response.status_code == 200
        assert "not correct" in response.content.decode()
    response = sign_in(client, learner.email)  # the right password, too late
    assert response.status_code in (200, 429)
    assert "too many" in response.content.decode().lower()
    assert signed_in_as(client) is None
    # A fresh client (another browser) is locked out of that account too: the key is the login.
    fresh = Client()
    assert "too many" in sign_in(fresh, learner.email).content.decode().lower()
    assert signed_in_as(fresh) is None
    # The lock is on that account, not on everyone behind the same address.
    assert sign_in(Client(), other_learner.email).status_code == 302


def test_sign_ups_are_limited_per_address(db) -> None:
    client = Client()
    for n in range(10):
        response = client.post(
            "/accounts/signup/",
            {
                "email": f"recruit{n}@police.scot",
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
            },
        )
        assert response.status_code == 302, n
    assert User.objects.filter(email__startswith="recruit").count() == 10
    response = Client().post(
        "/accounts/signup/",
        {"email": "recruit10@police.scot", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 429 or "too many" in response.content.decode().lower()
    assert not User.objects.filter(email="recruit10@police.scot").exists()
    assert User.objects.filter(email__startswith="recruit").count() == 10


def test_password_resets_are_limited_per_address(learner, other_learner) -> None:
    client = Client()
    for _ in range(5):
        assert client.post("/accounts/password/reset/", {"email": learner.email}).status_code == 302
    sent = len(mail.outbox)
    assert sent == 5
    response = Client().post("/accounts/password/reset/", {"email": learner.email})
    assert response.status_code == 429 or "too many" in response.content.decode().lower()
    assert len(mail.outbox) == sent  # no sixth email
    # Another officer can still reset theirs.
    assert (
        Client().post("/accounts/password/reset/", {"email": other_learner.email}).status_code
        == 302
    )
    assert len(mail.outbox) == sent + 1
    assert mail.outbox[-1].to == [other_learner.email]


def test_certificate_checks_are_limited_per_client_address(certified, settings) -> None:
    settings.PATHWAYS_VERIFY_RATE_PER_MINUTE = 4
    client = Client(REMOTE_ADDR="203.0.113.7")
    by_code = f"/certificates/verify/{certified.code}/"
    by_number = {"number": certified.number, "code": certified.code}
    # Both ways of checking count against the same budget.
    assert client.get(by_code).status_code == 200
    assert client.get("/certificates/verify/", by_number).status_code == 200
    assert client.get(by_code).status_code == 200
    assert client.get("/certificates/verify/", by_number).status_code == 200
    for attempt in (
        client.get(by_code),
        client.get("/certificates/verify/", by_number),
        # A forged forwarding header does not give a fresh budget.
        client.get(by_code, HTTP_X_FORWARDED_FOR="198.51.100.99"),
        client.get(by_code, HTTP_X_REAL_IP="198.51.100.99"),
    ):
        body = attempt.content.decode()
        assert attempt.status_code == 429
        assert "Try again in a minute" in body
        assert certified.officer_name not in body  # the refusal tells nothing
    # Another client address has its own budget; the empty form is never limited.
    assert Client(REMOTE_ADDR="203.0.113.8").get(by_code).status_code == 200
    assert client.get("/certificates/verify/").status_code == 200
