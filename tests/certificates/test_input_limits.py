"""Certificates at the limits of their inputs: the longest names, course settings stored before
they had bounds, and verification codes holding characters no code has. Never a 500."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from certificates.forms import VerifyForm
from certificates.models import Certificate
from certificates.rules import State, add_months, expiry_for, refresher_from_for, state_of
from courses.models import CoursePage
from officers.models import User
from tests.certificates.conftest import complete_course
from tests.factories import make_officer

# What a PositiveIntegerField column can hold (and so what an old row may hold).
STORED_INT = st.integers(min_value=0, max_value=2**31 - 1)
ANY_MONTHS = st.integers(min_value=-(2**31), max_value=2**31 - 1)


def user_field_length(name: str) -> int:
    return User._meta.get_field(name).max_length


def test_the_officer_name_column_holds_every_name_the_user_model_accepts() -> None:
    column = Certificate._meta.get_field("officer_name").max_length
    assert column >= user_field_length("first_name") + 1 + user_field_length("last_name")
    assert column >= user_field_length("email")


def test_an_officer_with_the_longest_names_gets_a_certificate_with_the_full_name(
    client: Client, org, course: CoursePage
) -> None:  # noqa: ANN001
    given_name = "Ñ" * user_field_length("first_name")
    family_name = "Ō" * user_field_length("last_name")
    officer = make_officer(unit=org.dundee, first_name=given_name, last_name=family_name)
    client.force_login(officer)
    complete_course(client, course)  # every completion used to be a 500, on PostgreSQL
    certificate = Certificate.objects.get(user=officer)
    assert certificate.officer_name == f"{given_name} {family_name}"
    page = client.get(certificate.verify_path()).content.decode()
    assert f"{given_name} {family_name}" in page


def test_an_officer_without_names_gets_the_longest_email_on_the_certificate(
    client: Client, org, course: CoursePage
) -> None:  # noqa: ANN001
    domain = ".".join(["d" * 60] * 3) + ".police.uk"
    email = "a" * (user_field_length("email") - len(domain) - 1) + "@" + domain
    officer = make_officer(unit=org.dundee, first_name="", last_name="", email=email)
    assert len(officer.email) == user_field_length("email")
    client.force_login(officer)
    complete_course(client, course)
    assert Certificate.objects.get(user=officer).officer_name == email


# --- Dates: the rules never overflow, whatever a course row holds.


@given(st.dates(), ANY_MONTHS)
def test_add_months_never_raises_and_stays_in_the_calendar(day: date, months: int) -> None:
    result = add_months(day, months)
    assert date.min <= result <= date.max
    if result not in (date.min, date.max):  # not clamped: exactly `months` months on
        assert (result.year - day.year) * 12 + result.month - day.month == months


@given(st.dates(), st.one_of(st.none(), STORED_INT), STORED_INT, st.dates())
def test_expiry_refresher_and_state_never_raise_for_any_stored_value(
    issued_on: date, validity: int | None, window: int, today: date
) -> None:
    expires_on = expiry_for(issued_on, validity)
    refresher_from = refresher_from_for(expires_on, window)
    if expires_on is None:
        assert refresher_from is None
    else:
        assert expires_on >= issued_on
        assert date.min <= refresher_from <= expires_on
    state = state_of(
        today=today,
        expires_on=expires_on,
        refresher_window_days=window,
        revoked=False,
        superseded=False,
    )
    assert state in (State.VALID, State.EXPIRING, State.EXPIRED)


def test_the_calendar_edges_clamp() -> None:
    assert add_months(date(9999, 12, 1), 1) == date.max
    assert add_months(date(1, 1, 31), -1) == date.min
    assert refresher_from_for(date(2026, 1, 1), 2**31 - 1) == date.min
    assert refresher_from_for(date(2026, 1, 1), 60) == date(2026, 1, 1) - timedelta(days=60)


@pytest.mark.parametrize(
    ("validity", "window"), [(100_000, 60), (12, 3_000_000), (2**31 - 1, 2**31 - 1)]
)
def test_completion_survives_course_settings_stored_before_they_had_bounds(
    client: Client, learner, course: CoursePage, validity: int, window: int
) -> None:  # noqa: ANN001
    # As a row saved before the admin had bounds: an update, past the model's validation.
    CoursePage.objects.filter(pk=course.pk).update(
        validity_months=validity, refresher_window_days=window
    )
    client.force_login(learner)
    complete_course(client, course)
    certificate = Certificate.objects.get(user=learner)
    assert certificate.expires_on == date.max or certificate.expires_on > timezone.localdate()
    assert certificate.state() in (State.VALID, State.EXPIRING)
    assert client.get(certificate.verify_path()).status_code == 200


# --- Verification: codes and numbers holding characters no code has.


def test_a_code_holding_a_nul_answers_like_an_unknown_code(client: Client, certified) -> None:  # noqa: ANN001
    unknown = client.get("/certificates/verify/no-such-code/")
    for path in ("/certificates/verify/%00abc/", f"/certificates/verify/{certified.code}%00/"):
        response = client.get(path)
        assert response.status_code == unknown.status_code == 200
        assert "No such certificate" in response.content.decode()
        assert certified.officer_name not in response.content.decode()


@pytest.mark.parametrize("field", ["number", "code"])
@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x7f", "\x85", "\t", "\n"])
def test_the_verify_form_refuses_control_characters(
    client: Client, db, field: str, bad: str
) -> None:  # noqa: ANN001
    data = {"number": "PW-2026-000001", "code": "Abc-def_123456789012"}
    data[field] = data[field][:5] + bad + data[field][5:]
    response = client.get("/certificates/verify/", data)
    assert response.status_code == 400
    assert "cannot contain control characters" in response.content.decode()


def test_the_verify_form_fields_are_as_long_as_the_columns() -> None:
    form = VerifyForm()
    for name in ("number", "code"):
        assert form.fields[name].max_length == Certificate._meta.get_field(name).max_length


def test_a_number_longer_than_the_column_is_refused_with_a_message(client: Client, db) -> None:  # noqa: ANN001
    response = client.get("/certificates/verify/", {"number": "P" * 21, "code": "abc"})
    assert response.status_code == 400
    assert "at most 20 characters" in response.content.decode()


def test_a_real_certificate_still_verifies(client: Client, certified) -> None:  # noqa: ANN001
    response = client.get(
        "/certificates/verify/", {"number": f" {certified.number.lower()} ", "code": certified.code}
    )
    assert response.status_code == 200
    assert certified.officer_name in response.content.decode()


def test_the_verify_pages_inputs_are_as_long_as_the_form_allows(client, db) -> None:  # noqa: ANN001
    from certificates.forms import VerifyForm

    page = client.get("/certificates/verify/").content.decode()
    for name, field in VerifyForm.base_fields.items():
        assert f'name="{name}"' in page
        assert f'maxlength="{field.max_length}"' in page
