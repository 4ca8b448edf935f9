"""Audit history stays within a training lead's units.

Wagtail's Reports > Site history shows a log entry to anyone with any permission on its model,
so a lead (who may view officer profiles, certificates and assignments) saw every officer's
edits: names and service numbers (entry labels) and who made them, in the page, its results
view and its CSV/XLSX export. The scoped view (training.history) shows entries of officer data
only for objects within the lead's units, and logs its exports. The per-object views Wagtail
adds to our viewsets (history, usage, inspect, edit, delete) find an object only within scope,
whatever model permissions a lead holds.

North's lead and an officer in North (Dundee) and in East (Leith), each with a certificate
revoked, an edited profile, an assignment rule and an assignment; an invitation.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.http import HttpResponse
from django.test import Client
from django.urls import resolve, reverse
from openpyxl import load_workbook
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from certificates.models import Certificate
from certificates.services import certificate_revoke
from courses.models import Enrolment, LocalInformation
from officers.models import Invitation, OfficerProfile, Role, Unit, User
from tests.certificates.conftest import complete_course
from tests.factories import make_officer
from tests.security.conftest import signed_in
from training.assignments import assignment_rule_create
from training.history import (
    content_types_for_filter,
    log_entries_visible_to,
    site_history_results_view,
    site_history_view,
    users_for_filter,
)
from training.models import Assignment, ExportLog

pytestmark = pytest.mark.usefixtures("no_staff_mfa")

SITE_HISTORY = "/admin/reports/site-history/"
SITE_HISTORY_RESULTS = "/admin/reports/site-history/results/"
INVITEE = "trainer.invitee@university.example"
SIGN_IN = ("/accounts/login/", "/admin/login/")


def body_of(response: HttpResponse) -> str:
    """The text a reader of the response would see: HTML, CSV, or every cell of an XLSX."""
    content = (
        b"".join(response.streaming_content)
        if getattr(response, "streaming", False)
        else response.content
    )
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        workbook = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    return content.decode("utf-8")


@dataclass
class Side:
    """One side's people: what identifies them, and what a log entry about them carries."""

    officer: User
    nameless: User  # no name, so entries about them carry their email
    lead: User
    certificate: Certificate

    def secrets(self) -> dict[str, str]:
        return {
            "officer's name": self.officer.get_full_name(),
            "officer's family name": self.officer.last_name,
            "officer's service number": self.officer.officer.service_number,
            "nameless officer's email": self.nameless.email,
            "nameless officer's service number": self.nameless.officer.service_number,
            "lead's name": self.lead.get_full_name(),
        }


def found(secrets: dict[str, str], body: str) -> set[str]:
    lowered = body.lower()
    return {label for label, value in secrets.items() if value.lower() in lowered}


def certify(user: User, course) -> Certificate:  # noqa: ANN001
    complete_course(signed_in(user), course)  # (its PDF is not rendered: no need here)
    return Certificate.objects.get(enrolment=Enrolment.objects.get(user=user, course=course))


def edit_profile_in_admin(administrator: User, officer: User, rank: str) -> None:
    """As an administrator does it: Wagtail logs `wagtail.edit`, labelled with the profile."""
    profile = officer.officer
    response = signed_in(administrator).post(
        f"/admin/officers/edit/{profile.pk}/",
        {
            "user": officer.pk,
            "service_number": profile.service_number,
            "force": profile.force_id,
            "unit": profile.unit_id,
            "rank": rank,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/admin/officers/", response["Location"]


@pytest.fixture
def north_lead(north_lead: User) -> User:
    north_lead.first_name, north_lead.last_name = "Norrie", "Gallowglass"
    north_lead.save(update_fields=["first_name", "last_name"])
    return north_lead


@pytest.fixture
def east_lead(east_lead: User) -> User:
    east_lead.first_name, east_lead.last_name = "Eilidh", "Brackenridge"
    east_lead.save(update_fields=["first_name", "last_name"])
    return east_lead


@pytest.fixture
def north(org, learner, north_lead, course) -> Side:  # noqa: ANN001
    nameless = make_officer(
        unit=org.tayside, email="pc.tayside.nameless@police.scot", first_name="", last_name=""
    )
    return Side(
        officer=learner,
        nameless=nameless,
        lead=north_lead,
        certificate=certify(learner, course),
    )


@pytest.fixture
def east(org, east_lead, course) -> Side:  # noqa: ANN001
    officer = make_officer(
        unit=org.leith,
        email="oswin.farthingale@police.scot",
        first_name="Oswin",
        last_name="Farthingale",
        service_number="E90210",
    )
    nameless = make_officer(
        unit=org.leith, email="pc.leith.nameless@police.scot", first_name="", last_name=""
    )
    return Side(
        officer=officer,
        nameless=nameless,
        lead=east_lead,
        certificate=certify(officer, course),
    )


@pytest.fixture
def logged(org, north: Side, east: Side, administrator: User, course, no_staff_mfa) -> None:  # noqa: ANN001
    """Log entries made the way the app makes them, on both sides."""
    for side, unit in ((north, org.tayside), (east, org.leith)):
        edit_profile_in_admin(administrator, side.officer, "Sergeant")
        log(instance=side.nameless.officer, action="wagtail.edit", user=administrator)
        log(instance=side.nameless, action="wagtail.edit", user=administrator)  # the user model
        log(instance=unit, action="wagtail.edit", user=administrator)
        certificate_revoke(certificate=side.certificate, by=side.lead, reason="Completed by proxy")
        rule, _ = assignment_rule_create(course=course, unit=unit, due_days=30, by=side.lead)
        log(instance=rule, action="wagtail.create", user=side.lead)
        assignment = Assignment.objects.get(rule=rule, user=side.officer)
        log(instance=assignment, action="wagtail.create", user=side.lead)
    response = signed_in(administrator).post("/admin/invitations/new/", {"email": INVITEE})
    assert response["Location"] == "/admin/invitations/"


# ------------------------------------------------------------------ site history


VIEWS = [
    SITE_HISTORY,
    SITE_HISTORY_RESULTS,
    f"{SITE_HISTORY}?export=csv",
    f"{SITE_HISTORY}?export=xlsx",
]


@pytest.mark.usefixtures("logged")
def test_a_lead_sees_the_history_of_their_units_only(north: Side, east: Side) -> None:
    client = signed_in(north.lead)
    for url in VIEWS:
        response = client.get(url)
        assert response.status_code == 200, url
        body = body_of(response)
        assert found(east.secrets(), body) == set(), url
        assert INVITEE not in body, url  # invitations are for administrators
        assert found(north.secrets(), body) == set(north.secrets()), url


@pytest.mark.usefixtures("logged")
def test_an_administrator_sees_all_of_it(north: Side, east: Side, administrator: User) -> None:
    client = signed_in(administrator)
    for url in VIEWS:
        response = client.get(url)
        assert response.status_code == 200, url
        body = body_of(response)
        assert found(north.secrets(), body) == set(north.secrets()), url
        assert found(east.secrets(), body) == set(east.secrets()), url
        assert INVITEE in body, url


@pytest.mark.usefixtures("logged")
def test_site_history_exports_are_logged(north: Side) -> None:
    client = signed_in(north.lead)
    for export_format in ("csv", "xlsx"):
        response = client.get(SITE_HISTORY, {"export": export_format, "label": "Quillfeather"})
        assert response.status_code == 200
        assert "Quillfeather" in body_of(response)
    client.get(SITE_HISTORY)  # looking is not exporting
    exports = ExportLog.objects.filter(user=north.lead, what="site_history").order_by("pk")
    assert [(e.format, e.filters) for e in exports] == [
        ("csv", {"label": "Quillfeather"}),
        ("xlsx", {"label": "Quillfeather"}),
    ]


@pytest.mark.usefixtures("logged")
def test_filters_name_no_one_outside_the_units(north: Side, east: Side) -> None:
    users = set(users_for_filter(north.lead))
    assert north.lead in users
    assert east.lead not in users
    content_types = {ct.model for ct in content_types_for_filter(north.lead)}
    assert "invitation" not in content_types
    # Filtering by East's lead, or searching for an East name, finds nothing either.
    client = signed_in(north.lead)
    secrets = east.secrets()
    body = body_of(client.get(SITE_HISTORY_RESULTS, {"user": east.lead.pk}))
    assert found(secrets, body) == set()
    body = body_of(client.get(SITE_HISTORY_RESULTS, {"label": east.officer.last_name}))
    assert "No log entries found" in body
    assert found(secrets, body) == {"officer's family name"}  # only as typed, in the filter


@pytest.mark.usefixtures("logged")
def test_a_lead_of_a_parent_unit_sees_both(org, north, east) -> None:  # noqa: ANN001
    force_lead = make_officer(
        unit=org.force, role=Role.TRAINING_LEAD, leads=[org.force], email="lead.force@police.scot"
    )
    body = body_of(signed_in(force_lead).get(SITE_HISTORY_RESULTS))
    assert found(north.secrets(), body) == set(north.secrets())
    assert found(east.secrets(), body) == set(east.secrets())
    assert INVITEE not in body


def test_scope_of_each_model(org, north, east, north_lead, course) -> None:  # noqa: ANN001
    """The rule itself, model by model, for entries of objects inside and outside the scope."""
    invitation = Invitation.objects.create(email=INVITEE)
    named_north, _ = assignment_rule_create(
        course=course, officers=[north.officer], due_days=30, by=north_lead
    )
    named_east, _ = assignment_rule_create(
        course=course, officers=[east.officer], due_days=30, by=east.lead
    )
    deleted = make_officer(unit=org.dundee, email="gone@police.scot")
    local = {
        unit: LocalInformation.objects.create(unit=unit, kind="welfare", body=f"Ask {unit.name}.")
        for unit in (org.north, org.east, org.other_force)
    }
    inside = [
        local[org.north],
        north.officer.officer,
        north.officer,
        org.tayside,
        north.certificate,
        named_north,
        Assignment.objects.get(rule=named_north),
    ]
    outside = [
        east.officer.officer,
        east.officer,
        org.leith,
        org.force,
        east.certificate,
        named_east,
        Assignment.objects.get(rule=named_east),
        invitation,
        local[org.east],
        local[org.other_force],
    ]
    entries = {obj: log(instance=obj, action="wagtail.edit").pk for obj in inside + outside}
    gone = log(instance=deleted.officer, action="wagtail.edit").pk
    deleted.delete()
    visible = set(
        log_entries_visible_to(north_lead, ModelLogEntry.objects.all()).values_list("pk", flat=True)
    )
    assert {obj for obj in inside if entries[obj] not in visible} == set()
    assert {obj for obj in outside if entries[obj] in visible} == set()
    assert gone not in visible  # an entry of a deleted officer: administrators only


def test_site_history_urls_keep_wagtails_names_and_admin_access(learner: User) -> None:
    assert reverse("wagtailadmin_reports:site_history") == SITE_HISTORY
    assert reverse("wagtailadmin_reports:site_history_results") == SITE_HISTORY_RESULTS
    assert resolve(SITE_HISTORY).func is site_history_view
    assert resolve(SITE_HISTORY_RESULTS).func is site_history_results_view
    for client in (Client(), signed_in(learner)):
        for url in (SITE_HISTORY, SITE_HISTORY_RESULTS, f"{SITE_HISTORY}?export=csv"):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(SIGN_IN)
    assert not ExportLog.objects.exists()


# ------------------------------------------------------------------ per-object admin views


OBJECT_VIEWS = ["history", "history-results", "usage", "inspect", "edit", "delete"]


def refused(response: HttpResponse) -> bool:
    """403/404, or Wagtail's refusal: a redirect to the dashboard (with a message)."""
    status, location = response.status_code, response.get("Location", "")
    return status in (403, 404) or (status == 302 and location == "/admin/")


def object_urls(prefix: str, pk: int) -> list[str]:
    return [f"/admin/{prefix}/{view}/{pk}/" for view in OBJECT_VIEWS]


def grant(user: User, *perms: str) -> None:
    """Model permissions a lead's role does not give: the scope must hold without them."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


@pytest.fixture
def victim_urls(org, north: Side) -> dict[str, list[str]]:  # noqa: ANN001
    invitation, _ = Invitation.objects.get_or_create(email=INVITEE)
    return {
        "officer": object_urls("officers", north.officer.officer.pk),
        "unit": object_urls("units", org.tayside.pk),
        "invitation": object_urls("invitations", invitation.pk),
        "certificate": object_urls("certificates", north.certificate.pk),
    }


@pytest.mark.usefixtures("logged")
@pytest.mark.parametrize("extra_permissions", [False, True], ids=["role", "granted"])
def test_a_lead_of_another_unit_is_refused_every_object_view(
    extra_permissions: bool, victim_urls: dict[str, list[str]], north: Side, east: Side
) -> None:
    """With the role's permissions, and with change and delete permissions granted too."""
    if extra_permissions:
        grant(
            east.lead,
            "officers.change_officerprofile",
            "officers.delete_officerprofile",
            "officers.change_unit",
            "officers.delete_unit",
            "certificates.change_certificate",
        )
    client = signed_in(east.lead)
    for kind, urls in victim_urls.items():
        for url in urls:
            response = client.get(url)
            assert refused(response), (kind, url, response.status_code, response.get("Location"))
            assert found(north.secrets(), body_of(response)) == set(), url
    assert OfficerProfile.objects.filter(pk=north.officer.officer.pk).exists()
    assert Unit.objects.filter(pk=north.officer.officer.unit_id).exists()


@pytest.mark.usefixtures("logged")
def test_a_lead_sees_their_own_officers_and_certificates(north: Side) -> None:
    """With the role's permissions (view only): inspect. History, usage and editing need a
    model permission leads do not hold, so Wagtail refuses them for every officer."""
    client = signed_in(north.lead)
    for url in (
        f"/admin/officers/inspect/{north.officer.officer.pk}/",
        f"/admin/certificates/inspect/{north.certificate.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    for url in (
        f"/admin/officers/history/{north.officer.officer.pk}/",
        f"/admin/certificates/history/{north.certificate.pk}/",
    ):
        assert refused(client.get(url)), url


@pytest.mark.usefixtures("logged")
def test_a_lead_given_change_permissions_sees_every_view_of_their_own(org, north) -> None:  # noqa: ANN001
    grant(
        north.lead,
        "officers.change_officerprofile",
        "officers.change_unit",
        "certificates.change_certificate",
    )
    client = signed_in(north.lead)
    profile = north.officer.officer
    for url in [
        *object_urls("officers", profile.pk)[:-1],  # all but delete (not granted)
        *object_urls("units", org.tayside.pk)[:3],  # history, results, usage
        f"/admin/units/edit/{org.tayside.pk}/",
        f"/admin/certificates/history/{north.certificate.pk}/",
        f"/admin/certificates/history-results/{north.certificate.pk}/",
        f"/admin/certificates/inspect/{north.certificate.pk}/",
    ]:
        assert client.get(url).status_code == 200, url
    history = body_of(client.get(f"/admin/officers/history/{profile.pk}/"))
    assert "Edited" in history
    assert north.officer.get_full_name() in history
