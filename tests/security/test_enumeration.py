"""Certificates cannot be found by guessing: codes are unguessable, numbers alone are useless."""

from __future__ import annotations

import secrets

from django.test import Client

NO_SUCH = "No such certificate"


def test_random_codes_find_nothing(certified, settings) -> None:
    settings.PATHWAYS_VERIFY_RATE_PER_MINUTE = 10_000  # this test is about guessing, not limits
    anonymous = Client()
    real = anonymous.get(f"/certificates/verify/{certified.code}/")
    assert real.status_code == 200 and certified.officer_name in real.content.decode()
    for _ in range(200):
        code = secrets.token_urlsafe(15)
        response = anonymous.get(f"/certificates/verify/{code}/")
        body = response.content.decode()
        assert response.status_code == real.status_code == 200, code
        assert NO_SUCH in body, code
        assert certified.officer_name not in body and certified.number not in body
        assert response.templates[0].name == real.templates[0].name
        assert response["Cache-Control"] == real["Cache-Control"] == "no-store"


def test_the_code_is_long_and_random(certified) -> None:
    assert len(certified.code) >= 20  # token_urlsafe(15): 120 bits
    assert certified.number not in certified.code
    assert str(certified.pk) != certified.code


def near_misses(code: str) -> list[str]:
    return [
        code[:-1],
        code + "A",
        code[1:],
        code.swapcase(),
        code[:10],
        "%",
        "_" * len(code),
        "*",
        "' OR '1'='1",
        f"{code[:-1]}%",
    ]


def test_a_number_without_its_code_finds_nothing(certified, settings) -> None:
    settings.PATHWAYS_VERIFY_RATE_PER_MINUTE = 10_000
    anonymous = Client()
    secret_parts = (certified.officer_name, certified.course_title)
    # No code at all: the form asks for it and looks nothing up.
    for query in (
        {"number": certified.number, "code": ""},
        {"number": certified.number, "code": "   "},
        {"number": certified.number},
    ):
        response = anonymous.get("/certificates/verify/", query)
        body = response.content.decode()
        assert response.status_code == 400, query
        assert "This field is required" in body
        assert not any(part in body for part in secret_parts), query
    # A wrong code (or one that would match as a pattern) finds nothing either.
    for code in near_misses(certified.code):
        if code.strip() == certified.code:
            continue
        response = anonymous.get(
            "/certificates/verify/", {"number": certified.number, "code": code}
        )
        body = response.content.decode()
        assert response.status_code == 200, code
        assert NO_SUCH in body, code
        assert not any(part in body for part in secret_parts), code


def test_other_identifiers_are_not_codes(certified) -> None:
    anonymous = Client()
    for value in (certified.number, certified.pk, certified.service_number, certified.user_id):
        body = anonymous.get(f"/certificates/verify/{value}/").content.decode()
        assert NO_SUCH in body, value
        assert certified.officer_name not in body, value


def test_near_miss_codes_in_the_address_find_nothing(certified, settings) -> None:
    settings.PATHWAYS_VERIFY_RATE_PER_MINUTE = 10_000
    anonymous = Client()
    for code in near_misses(certified.code):
        if code == certified.code or "/" in code:
            continue
        body = anonymous.get(f"/certificates/verify/{code}/").content.decode()
        assert NO_SUCH in body, code
        assert certified.officer_name not in body, code
