"""An administrator imports an HR file: upload, read the preview, confirm, see the result."""

from __future__ import annotations

import os

import pytest

from officers.models import User

pytestmark = pytest.mark.browser

HEADER = "email,given_name,family_name,service_number,force,unit,rank,role"
SCREENSHOTS = os.environ.get("PATHWAYS_SCREENSHOTS", "")  # a folder: look at the pages


def test_administrator_previews_and_confirms_an_hr_file(page, demo, settings, tmp_path) -> None:  # noqa: ANN001
    from tests.browser.test_journeys import sign_in

    settings.PATHWAYS_REQUIRE_STAFF_MFA = False
    officer = User.objects.get(email="officer@demo.police.uk")
    file = tmp_path / "hr-export.csv"
    file.write_text(
        "\n".join(
            [
                HEADER,
                "rhona.baird@demo.police.uk,Rhona,Baird,DPS9001,Demo Police Service,"
                "North/Tayside/Dundee Response,Constable,learner",
                "iain.mackay@demo.police.uk,Iain,Mackay,DPS9002,Demo Police Service,"
                "West/Greater Glasgow/Govan Response,Constable,learner",
                f"{officer.email},{officer.first_name},{officer.last_name},"
                f"{officer.officer.service_number},Demo Police Service,"
                "East/Edinburgh/Leith Response,Sergeant,learner",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    sign_in(page, "admin@demo.police.uk")
    page.goto("/admin/officers/import/")
    page.get_by_label("HR file (CSV or Excel)").set_input_files(str(file))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="Check what this import would do").wait_for()
    page.get_by_text("New officers (2)").click()  # each kind of change opens to its rows
    page.get_by_text("Moved to another unit (1)").click()
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/import-preview-1280.png", full_page=True)
        page.set_viewport_size({"width": 375, "height": 800})
        page.screenshot(path=f"{SCREENSHOTS}/import-preview-375.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})
    body = page.inner_text("main")
    assert "rhona.baird@demo.police.uk" in body
    assert "Police Scotland" not in body  # the demo force is the one named
    assert "→ Demo Police Service / East / Edinburgh / Leith Response" in body
    assert not User.objects.filter(email="rhona.baird@demo.police.uk").exists()  # not yet
    leavers = page.get_by_label("Also deactivate", exact=False)
    assert not leavers.is_checked()  # the file is not the whole force: leave them

    page.get_by_role("button", name="Confirm and import").click()
    page.get_by_role("heading", name="Imported").wait_for()
    assert "2 officers created" in page.inner_text("main")
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/import-done-1280.png", full_page=True)
    rhona = User.objects.get(email="rhona.baird@demo.police.uk")
    assert rhona.officer.unit.full_name.endswith("Dundee Response")
    officer.refresh_from_db()
    assert officer.officer.rank == "Sergeant"
    assert officer.officer.unit.name == "Leith Response"
    assert User.objects.filter(email="lead@demo.police.uk", is_active=True).exists()

    page.get_by_role("link", name="All your imports").click()
    assert "hr-export.csv" in page.inner_text("main")
