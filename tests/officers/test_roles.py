"""Roles as groups, and the unit scope of training leads in every officer view."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError

from officers.models import OfficerProfile, Role, Unit
from officers.roles import GROUP_NAMES, has_staff_role, parse_role, primary_role, user_set_role
from officers.selectors import officers_visible_to, units_visible_to, user_can_manage_unit
from tests.factories import make_officer


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("learner", Role.LEARNER),
        ("Training lead", Role.TRAINING_LEAD),
        ("training_lead", Role.TRAINING_LEAD),
        ("TRAINING-LEAD", Role.TRAINING_LEAD),
        ("author", Role.AUTHOR),
        ("Administrator", Role.ADMINISTRATOR),
        ("admin", Role.ADMINISTRATOR),
        ("superhero", None),
        ("", None),
    ],
)
def test_parse_role(text: str, role: Role | None) -> None:
    assert parse_role(text) == role


def test_four_role_groups_exist_after_migrate(db) -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(GROUP_NAMES.values())
    lead = Group.objects.get(name=GROUP_NAMES[Role.TRAINING_LEAD])
    perms = {f"{p.content_type.app_label}.{p.codename}" for p in lead.permissions.all()}
    assert {"wagtailadmin.access_admin", "officers.import_officers"} <= perms
    assert not Group.objects.get(name=GROUP_NAMES[Role.LEARNER]).permissions.exists()


def test_set_role_replaces_the_previous_one(learner) -> None:
    assert primary_role(learner) == Role.LEARNER and not has_staff_role(learner)
    user_set_role(user=learner, role=Role.AUTHOR)
    assert primary_role(learner) == Role.AUTHOR and has_staff_role(learner)
    assert learner.groups.count() == 1
    user_set_role(user=learner, role=Role.ADMINISTRATOR)
    assert learner.is_superuser and learner.is_staff
    user_set_role(user=learner, role=Role.LEARNER)
    learner.refresh_from_db()
    assert not learner.is_superuser and not learner.has_perm("wagtailadmin.access_admin")


def test_service_number_unique_within_a_force_only(org, learner) -> None:
    number = learner.officer.service_number
    make_officer(unit=org.other_force, service_number=number)  # another force: fine
    with pytest.raises(IntegrityError):
        make_officer(unit=org.leith, service_number=number)


def test_lead_scope_covers_units_and_everything_under_them(org, north_lead, learner) -> None:
    east_officer = make_officer(unit=org.leith)
    assert set(units_visible_to(north_lead)) == {org.north, org.tayside, org.dundee}
    visible = set(officers_visible_to(north_lead).values_list("user__email", flat=True))
    assert learner.email in visible
    assert east_officer.email not in visible
    assert user_can_manage_unit(north_lead, org.dundee)
    assert not user_can_manage_unit(north_lead, org.east)
    assert not user_can_manage_unit(north_lead, org.force)


def test_lead_of_several_units(org, learner) -> None:
    lead = make_officer(unit=org.east, role=Role.TRAINING_LEAD, leads=[org.leith, org.tayside])
    assert set(units_visible_to(lead)) == {org.leith, org.tayside, org.dundee}


def test_administrators_see_every_unit(org, administrator) -> None:
    assert units_visible_to(administrator).count() == Unit.objects.count()
    assert officers_visible_to(administrator).count() == OfficerProfile.objects.count()


def test_a_learner_leads_nothing(org, learner) -> None:
    assert not units_visible_to(learner).exists()
    assert not officers_visible_to(learner).exists()


# ------------------------------------------------------------------ admin views


def test_lead_sees_only_their_officers_in_the_admin(
    client, org, north_lead, learner, no_staff_mfa
) -> None:
    east_officer = make_officer(unit=org.leith, email="east.officer@police.scot")
    client.force_login(north_lead)
    body = client.get("/admin/officers/").content.decode()
    assert learner.email in body
    assert east_officer.email not in body
    inspect = f"/admin/officers/inspect/{learner.officer.pk}/"
    assert client.get(inspect).status_code == 200
    other = f"/admin/officers/inspect/{east_officer.officer.pk}/"
    assert client.get(other).status_code == 404


def test_lead_of_another_unit_gets_nothing(client, org, east_lead, learner, no_staff_mfa) -> None:
    client.force_login(east_lead)
    body = client.get("/admin/officers/").content.decode()
    assert learner.email not in body
    assert client.get(f"/admin/officers/inspect/{learner.officer.pk}/").status_code == 404
    # Leads cannot edit profiles at all (view permission only).
    response = client.get(f"/admin/officers/edit/{learner.officer.pk}/")
    assert response.status_code in (302, 403, 404)


def test_learner_cannot_enter_the_admin(client, learner) -> None:
    client.force_login(learner)
    response = client.get("/admin/")
    assert response.status_code == 302


def test_administrator_creates_and_moves_units(client, org, administrator, no_staff_mfa) -> None:
    client.force_login(administrator)
    response = client.post(
        "/admin/units/new/", {"name": "Fife Response", "kind": "team", "parent": org.east.pk}
    )
    assert response.status_code == 302
    fife = Unit.objects.get(name="Fife Response")
    assert fife.get_parent() == org.east
    response = client.post(
        f"/admin/units/edit/{fife.pk}/",
        {"name": "Fife Response", "kind": "team", "parent": org.north.pk},
    )
    assert response.status_code == 302
    fife.refresh_from_db()
    assert fife.get_parent() == org.north
    # A team at the top of the tree, or a unit inside itself, is refused with a message.
    response = client.post("/admin/units/new/", {"name": "Loose", "kind": "team"})
    assert "Only a force can be at the top" in response.content.decode()
    response = client.post(
        f"/admin/units/edit/{org.north.pk}/",
        {"name": "North", "kind": "division", "parent": org.dundee.pk},
    )
    assert response.status_code == 200
    org.north.refresh_from_db()
    assert org.north.get_parent() == org.force
