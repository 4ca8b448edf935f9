"""Every form anyone can send without signing in, fed any text (Hypothesis).

For any text in any field the answer is never a 500, and nothing is stored unless the input
is valid: the certificate check, and allauth's sign-in, sign-up and password reset.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.apps import apps
from django.core import mail
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from certificates.forms import VerifyForm
from officers.models import User
from officers.rules import domain_allowed
from tests.factories import PASSWORD, make_officer

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any text, weighted toward what breaks input handling: control characters (NUL above all),
# other scripts' digits, long values.
ANY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Nd", "No", "Zs"])),
    st.text(min_size=200, max_size=2000),
)
# Well-formed addresses at domains open to sign-up (PATHWAYS_SIGNUP_DOMAINS).
POLICE_EMAILS = st.builds(
    "{}@{}".format,
    st.from_regex(r"[a-z][a-z0-9]{0,10}(\.[a-z0-9]{1,10})?", fullmatch=True),
    st.sampled_from(["police.scot", "met.police.uk"]),
)
STRONG_PASSWORD = "larch-ferry-quartz-ember-71"


def counts() -> dict[str, int]:
    """How many rows every table holds: a form that stores nothing changes none of them."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def changed(before: dict[str, int]) -> dict[str, tuple[int, int]]:
    after = counts()
    return {label: (n, after[label]) for label, n in before.items() if after[label] != n}


def fresh() -> Client:
    """A new visitor, under no rate limit left over from the previous example."""
    cache.clear()
    mail.outbox = []
    return Client()


def send(request: Callable[[Client], object]) -> tuple[object, dict[str, tuple[int, int]]]:
    before = counts()
    response = request(fresh())
    assert response.status_code < 500
    event(f"answered {response.status_code}")  # see them with --hypothesis-show-statistics
    return response, changed(before)


@pytest.fixture
def officer(org) -> User:  # noqa: ANN001
    return make_officer(unit=org.dundee, email="known.officer@police.scot")


@PROPERTY
@given(number=ANY_TEXT, code=ANY_TEXT)
@example(number="PW-2026-000001", code="\x00abc")
def test_the_certificate_check_answers_any_text_and_stores_nothing(
    db, number: str, code: str
) -> None:  # noqa: ANN001
    query = {"number": number, "code": code}
    response, difference = send(lambda client: client.get("/certificates/verify/", query))
    assert difference == {}
    assert response.status_code == (200 if VerifyForm(query).is_valid() else 400)


@PROPERTY
@given(
    login=st.one_of(ANY_TEXT, st.just("known.officer@police.scot"), st.emails(), POLICE_EMAILS),
    password=st.one_of(ANY_TEXT, st.just(PASSWORD)),
)
@example(login=" Known.Officer@police.scot ", password=PASSWORD)
@example(login="known.officer@police.scot\x00", password=PASSWORD)
def test_sign_in_answers_any_text_and_signs_in_only_with_the_right_password(
    officer: User, login: str, password: str
) -> None:
    data = {"login": login, "password": password}
    response, difference = send(lambda client: client.post("/accounts/login/", data))
    right = login.strip().lower() == officer.email and password == PASSWORD
    if right:
        assert response.status_code == 302
    else:
        assert response.status_code == 200  # the form again, with its errors
        assert difference == {}
        assert "_auth_user_id" not in response.wsgi_request.session


@st.composite
def sign_ups(draw: st.DrawFn) -> dict[str, str]:
    """Any text, or a well-formed sign-up (police address, matching strong passwords)."""
    if draw(st.booleans()):
        email = draw(POLICE_EMAILS)
        return {"email": email, "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD}
    password1 = draw(st.one_of(ANY_TEXT, st.just(STRONG_PASSWORD)))
    return {
        "email": draw(st.one_of(ANY_TEXT, st.emails())),
        "password1": password1,
        "password2": draw(st.one_of(st.just(password1), ANY_TEXT)),
    }


@PROPERTY
@given(data=sign_ups())
@example(
    data={
        "email": "new.officer@police.scot",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD,
    }
)
@example(data={"email": "new\x00@police.scot", "password1": "\x00" * 12, "password2": "\x00" * 12})
def test_sign_up_answers_any_text_and_creates_an_account_only_when_valid(
    db, data: dict[str, str]
) -> None:  # noqa: ANN001
    well_formed = data["password1"] == data["password2"] == STRONG_PASSWORD and re.fullmatch(
        r"[a-z][a-z0-9]*(\.[a-z0-9]+)?@(police\.scot|met\.police\.uk)", data["email"]
    )
    email = data["email"].strip().lower()
    # (PostgreSQL cannot compare text holding NUL; such an address is refused anyway.)
    new = "\x00" not in email and not User.objects.filter(email=email).exists()
    response, difference = send(lambda client: client.post("/accounts/signup/", data))
    if response.status_code == 200:  # refused: the form again, with its errors
        assert not well_formed
        assert difference == {}
        return
    assert response.status_code == 302
    # Accepted: a police address and two matching passwords of at least 12 characters.
    assert data["password1"] == data["password2"] and len(data["password1"]) >= 12
    assert domain_allowed(email, ["police.scot", "*.police.uk"])
    users_before, users_after = difference.get("officers.User", (0, 0))
    assert users_after - users_before == (1 if new else 0)
    if new:
        user = User.objects.get(email=email)
        assert user.check_password(data["password1"]) and not user.is_staff


@PROPERTY
@given(email=st.one_of(ANY_TEXT, st.emails(), POLICE_EMAILS, st.just("known.officer@police.scot")))
@example(email="known.officer@police.scot\x00")
@example(email="known.officer@police.scot")
def test_password_reset_answers_any_text_and_changes_no_account(officer: User, email: str) -> None:
    password_hash = officer.password
    response, difference = send(
        lambda client: client.post("/accounts/password/reset/", {"email": email})
    )
    officer.refresh_from_db()
    assert officer.password == password_hash
    if response.status_code == 200:  # refused: the form again, with its errors
        assert difference == {}
        assert mail.outbox == []
    else:
        assert response.status_code == 302
        # At most one email queued (a reset link, or "no account" to an unknown address).
        assert set(difference) <= {"officers.OutgoingEmail"}
