"""The demo training lead assigns a course, reads the matrix, drills down and exports it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from officers.models import OfficerProfile, Unit
from tests.browser.test_journeys import sign_in
from training.models import Assignment

pytestmark = pytest.mark.browser


def test_lead_assigns_reads_the_matrix_drills_down_and_exports(page, demo, settings) -> None:  # noqa: ANN001
    settings.PATHWAYS_REQUIRE_STAFF_MFA = False
    sign_in(page, "lead@demo.police.uk")
    dundee = Unit.objects.get(name="Dundee Response")
    due = timezone.localdate() + timedelta(days=20)

    page.goto("/admin/training/assign/")
    page.get_by_label("Course").select_option(label="Naloxone refresher")
    page.get_by_label("A unit or recruit intake (and everything under it)").check()
    page.get_by_label("Unit or intake").select_option(label=dundee.full_name)
    page.get_by_label("On a date").check()
    page.get_by_label("Due date").fill(str(due))
    page.get_by_role("button", name="Assign").click()
    page.wait_for_url("**/admin/training/matrix/")
    assert "assigned to" in page.inner_text("body")
    # Every officer in Dundee now has the course, due by that date at the latest (an officer
    # who already had it open keeps the earlier date).
    in_dundee = OfficerProfile.objects.filter(unit=dundee, user__is_active=True)
    assigned = Assignment.objects.filter(
        user__officer__in=in_dundee, course__title="Naloxone refresher", current=True
    )
    assert assigned.count() == in_dundee.count() > 0
    assert all(a.due_on <= due for a in assigned)

    page.get_by_role("link", name="North", exact=True).click()
    page.get_by_role("link", name="Tayside", exact=True).click()
    page.get_by_role("link", name="Dundee Response", exact=True).click()
    officers = OfficerProfile.objects.filter(unit=dundee).select_related("user")
    table = page.locator("table.training-matrix").inner_text()
    for profile in officers:
        assert str(profile.user) in table
    officer = officers.get(user__email="officer@demo.police.uk")
    page.get_by_role("link", name=str(officer.user)).click()
    page.wait_for_url("**/transcript/")
    assert "Transcript" in page.inner_text("body")
    assert "Naloxone refresher" in page.inner_text("main")

    page.go_back()
    with page.expect_download() as info:
        page.get_by_role("link", name="Export XLSX").click()
    sheet = load_workbook(io.BytesIO(info.value.path().read_bytes())).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["Unit or officer", "Course", "Assigned"]
    names = {row[0] for row in rows[1:]}
    assert {str(p.user) for p in officers} <= names
    refresher = [r for r in rows if r[0] == str(officer.user) and r[1] == "Naloxone refresher"]
    assert refresher and refresher[0][2] >= 1
