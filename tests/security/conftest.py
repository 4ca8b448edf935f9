"""Fixtures for the security suite.

Fixtures from sibling packages' conftest files (tests/certificates, tests/scenarios) are not
visible here, so the thin ones this suite needs are declared again, calling the same helpers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from officers.models import Role, User
from tests.certificates.conftest import complete_course
from tests.factories import make_course, make_officer
from tests.scenarios.conftest import DOC, publish_document


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:  # noqa: ANN001
    """Certificate PDFs and uploaded images go to a throwaway folder, not the project's."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def learner(learner: User) -> User:
    """The victim: the root fixture's learner, with a name no page would show by chance."""
    learner.first_name = "Zephyrine"
    learner.last_name = "Quillfeather"
    learner.save(update_fields=["first_name", "last_name"])
    return learner


@pytest.fixture
def other_learner(org) -> User:  # noqa: ANN001
    """A learner in the same unit as the victim: same unit, still not the owner."""
    return make_officer(unit=org.dundee, email="other.learner@police.scot")


@pytest.fixture
def author(org) -> User:  # noqa: ANN001
    return make_officer(unit=org.east, role=Role.AUTHOR, email="author@police.scot")


@pytest.fixture
def course(home):  # noqa: ANN001, ANN201
    return make_course(
        home,
        title="Naloxone refresher",
        modules=1,
        lessons=2,
        validity_months=12,
        refresher_window_days=60,
        signatory_name="Chief Inspector Ada Lovelace",
        signatory_role="Head of Training",
    )


@pytest.fixture
def certified(learner, course, django_capture_on_commit_callbacks):  # noqa: ANN001, ANN201
    """The victim has completed the course: their certificate (PDF rendered)."""
    from certificates.models import Certificate
    from courses.models import Enrolment

    owner = Client()
    owner.force_login(learner)
    with django_capture_on_commit_callbacks(execute=True):
        complete_course(owner, course)
    return Certificate.objects.get(enrolment=Enrolment.objects.get(user=learner))


@pytest.fixture
def scenario(db):  # noqa: ANN001, ANN201
    return publish_document(DOC)


@pytest.fixture
def attempt(learner, scenario):  # noqa: ANN001, ANN201
    """The victim's attempt at the scenario, one choice in (so it has feedback)."""
    from scenarios.models import Attempt

    owner = Client()
    owner.force_login(learner)
    response = owner.post(f"/scenarios/{scenario.pk}/start/")
    assert response.status_code == 302
    played = Attempt.objects.get(user=learner)
    response = owner.post(
        f"/scenarios/attempts/{played.pk}/choose/", {"step": "arrive", "choice": "c1"}
    )
    assert response.status_code == 302
    return played


@dataclass
class Secrets:
    """What must never reach someone who is not the victim (or their lead)."""

    values: dict[str, str]

    def leaked_in(self, body: str) -> list[str]:
        lowered = body.lower()
        return [label for label, value in self.values.items() if value.lower() in lowered]


@pytest.fixture
def secrets_of(learner):  # noqa: ANN001, ANN201
    def build(certificate=None) -> Secrets:  # noqa: ANN001
        values = {
            "full name": learner.get_full_name(),
            "family name": learner.last_name,
            "email": learner.email,
            "service number": learner.officer.service_number,
        }
        if certificate is not None:
            values["certificate number"] = certificate.number
            values["verification code"] = certificate.code
        return Secrets(values)

    return build


def signed_in(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
