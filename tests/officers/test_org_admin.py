"""Organisation admin: invitations compared whatever the case, units with officers kept."""

from __future__ import annotations

from officers.models import Invitation, OfficerProfile, Unit
from tests.factories import make_officer


def test_an_address_is_invited_once_whatever_its_case(client, administrator, no_staff_mfa) -> None:
    client.force_login(administrator)
    assert client.post("/admin/invitations/new/", {"email": "trainer@uni.example"}).status_code
    response = client.post("/admin/invitations/new/", {"email": "Trainer@Uni.Example"})
    assert response.status_code == 200
    assert "already been invited" in response.content.decode()
    assert Invitation.objects.count() == 1


def test_an_address_with_an_account_is_not_invited_whatever_its_case(
    client, administrator, learner, no_staff_mfa
) -> None:
    client.force_login(administrator)
    response = client.post("/admin/invitations/new/", {"email": "LEARNER@Police.Scot"})
    assert response.status_code == 200
    assert "already has an account" in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_division_whose_teams_have_officers_is_not_deleted(
    client, org, administrator, no_staff_mfa
) -> None:
    make_officer(unit=org.dundee, email="a@police.scot")
    make_officer(unit=org.tayside, email="b@police.scot")
    client.force_login(administrator)
    before = (Unit.objects.count(), OfficerProfile.objects.count())
    url = f"/admin/units/delete/{org.north.pk}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "2 officers are still placed in it" in page.content.decode()
    assert "Yes, delete" not in page.content.decode()
    response = client.post(url)
    assert response.status_code == 200
    assert "2 officers are still placed in it" in response.content.decode()
    assert (Unit.objects.count(), OfficerProfile.objects.count()) == before


def test_an_empty_division_is_deleted_with_its_teams(
    client, org, administrator, no_staff_mfa
) -> None:
    client.force_login(administrator)
    response = client.post(f"/admin/units/delete/{org.east.pk}/")
    assert response.status_code == 302
    assert not Unit.objects.filter(pk__in=[org.east.pk, org.leith.pk]).exists()
