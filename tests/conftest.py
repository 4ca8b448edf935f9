from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.core.cache import cache

from officers.models import Role, Unit, User
from tests.factories import make_officer, make_unit

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# next to one unless told this is safe (it is: the loop is Playwright's, not ours).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Rate limits live in the cache: start every test with none."""
    cache.clear()


@pytest.fixture
def home(db):  # noqa: ANN001, ANN201
    from pathways.demo import _home_page

    return _home_page()


@dataclass
class Org:
    force: Unit
    north: Unit
    tayside: Unit
    dundee: Unit
    east: Unit
    leith: Unit
    other_force: Unit


@pytest.fixture
def org(db) -> Org:  # noqa: ANN001
    force = make_unit("Police Scotland")
    north = make_unit("North", force, Unit.Kind.DIVISION)
    tayside = make_unit("Tayside", north, Unit.Kind.DIVISION)
    dundee = make_unit("Dundee Response", tayside)
    east = make_unit("East", force, Unit.Kind.DIVISION)
    leith = make_unit("Leith Response", east)
    other = make_unit("Metropolitan Police")
    return Org(force, north, tayside, dundee, east, leith, other)


@pytest.fixture
def learner(org: Org) -> User:
    return make_officer(unit=org.dundee, email="learner@police.scot")


@pytest.fixture
def north_lead(org: Org) -> User:
    return make_officer(
        unit=org.north, role=Role.TRAINING_LEAD, leads=[org.north], email="lead.north@police.scot"
    )


@pytest.fixture
def east_lead(org: Org) -> User:
    return make_officer(
        unit=org.east, role=Role.TRAINING_LEAD, leads=[org.east], email="lead.east@police.scot"
    )


@pytest.fixture
def administrator(org: Org) -> User:
    return make_officer(unit=org.force, role=Role.ADMINISTRATOR, email="admin@police.scot")


@pytest.fixture
def no_staff_mfa(settings) -> None:  # noqa: ANN001
    """Most admin tests are not about MFA: switch the requirement off."""
    settings.PATHWAYS_REQUIRE_STAFF_MFA = False
