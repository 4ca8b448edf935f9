"""Uploads are size-limited and type-checked: officer CSV, scenario JSON, images, documents."""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image as PILImage
from wagtail.documents.models import Document
from wagtail.images.models import Image

from officers.models import OfficerProfile, Unit, User
from scenarios.models import Scenario
from tests.scenarios.conftest import DOC
from tests.security.conftest import signed_in

# The uploader fixture asks for users dynamically, so say outright that these tests use the
# database: pytest-django orders tests by it, and a test it thinks needs none runs after the
# live-server tests have flushed the data migrations made (such as the root collection).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_staff_mfa")]

HEADER = "email,given_name,family_name,service_number,force,unit,rank,role\n"
GOOD_CSV = (
    HEADER + "jo.bloggs@police.scot,Jo,Bloggs,A1001,Police Scotland,East,Constable,learner\n"
).encode()


def officers_snapshot() -> tuple[int, int, int]:
    return User.objects.count(), OfficerProfile.objects.count(), Unit.objects.count()


def upload_csv(client: Client, data: bytes, name: str = "officers.csv"):  # noqa: ANN201
    """Upload, and follow to the import's page (its preview, or its problems)."""
    return client.post(
        "/admin/officers/import/",
        {"file": SimpleUploadedFile(name, data, "text/csv")},
        follow=True,
    )


# ------------------------------------------------------------------- officer CSV


def test_csv_over_the_size_limit_is_refused(client, org, administrator, settings) -> None:
    client.force_login(administrator)
    settings.PATHWAYS_MAX_CSV_BYTES = 200
    big = GOOD_CSV + b"# padding\n" * 30
    assert len(big) > 200
    before = officers_snapshot()
    response = upload_csv(client, big)
    assert response.status_code == 200
    assert "larger than" in response.content.decode()
    assert officers_snapshot() == before
    # Just under the limit is fine: the limit is what refused it.
    settings.PATHWAYS_MAX_CSV_BYTES = len(GOOD_CSV)
    assert "Check what this import would do" in upload_csv(client, GOOD_CSV).content.decode()


def test_csv_limit_default_is_five_megabytes() -> None:
    assert settings.PATHWAYS_MAX_CSV_BYTES == 5 * 1024 * 1024


def test_csv_upload_refuses_other_file_names(client, org, administrator) -> None:
    client.force_login(administrator)
    before = officers_snapshot()
    for name in ("officers.csv.exe", "officers.html", "officers.svg", "csv", "officers.xls"):
        response = upload_csv(client, GOOD_CSV, name=name)
        assert response.status_code == 200, name
        assert "Choose a .csv or .xlsx file" in response.content.decode(), name
    response = upload_csv(client, GOOD_CSV, name="officers.xlsx")  # text, named as a workbook
    assert "not an Excel workbook" in response.content.decode()
    assert officers_snapshot() == before


BINARY = {
    "nul bytes": b"\x00\x01\x02binary",
    "xlsx renamed .csv": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
    "UTF-16 text": GOOD_CSV.decode().encode("utf-16"),  # NULs between the letters
    "png renamed .csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
}


def test_csv_upload_refuses_binary_content(client, org, administrator) -> None:
    client.force_login(administrator)
    before = officers_snapshot()
    for what, data in BINARY.items():
        response = upload_csv(client, data)
        assert response.status_code == 200, what
        assert "not a text CSV file" in response.content.decode(), what
    assert officers_snapshot() == before


def test_csv_problems_are_shown_as_text_not_markup(client, org, administrator) -> None:
    client.force_login(administrator)
    before = officers_snapshot()
    evil = (
        HEADER + '<script>alert("x")</script>,<img src=x onerror=alert(1)>,B,X1,'
        "Police Scotland,,Constable,learner\n"
    )
    body = upload_csv(client, evil.encode()).content.decode()
    assert "Nothing was imported" in body
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;" in body
    assert officers_snapshot() == before


# ---------------------------------------------------------------- scenario JSON


def upload_scenario(client: Client, data: bytes, name: str = "scenario.json"):  # noqa: ANN201
    return client.post(
        "/admin/snippets/scenarios/scenario/import/",
        {"file": SimpleUploadedFile(name, data, "application/json")},
    )


def test_scenario_over_one_megabyte_is_refused(author) -> None:
    client = signed_in(author)
    doc = dict(DOC, summary="x" * 1_000_001)
    data = json.dumps(doc).encode()
    response = upload_scenario(client, data)
    assert response.status_code == 200
    assert "larger than 1 MB" in response.content.decode()
    assert not Scenario.objects.exists()
    # The same document at a normal size is imported: the size is what refused it.
    assert upload_scenario(client, json.dumps(DOC).encode()).status_code == 302
    assert Scenario.objects.count() == 1


def test_scenario_import_refuses_other_file_names(author) -> None:
    client = signed_in(author)
    for name in ("scenario.txt", "scenario.json.exe", "scenario.html", "scenario.js", "json"):
        response = upload_scenario(client, json.dumps(DOC).encode(), name=name)
        assert response.status_code == 200, name
        assert "Choose a .json file" in response.content.decode(), name
    assert not Scenario.objects.exists()


def test_scenario_import_refuses_content_that_is_not_a_scenario(author) -> None:
    client = signed_in(author)
    for data in (
        b"\x00\x01binary",
        b"\xff\xfe\x00not utf-8",
        b"<html><script>alert(1)</script></html>",
    ):
        response = upload_scenario(client, data)
        assert response.status_code == 400, data
        body = response.content.decode()
        assert "Nothing was imported" in body, data
        assert "<script>alert(1)" not in body
    assert not Scenario.objects.exists()


def test_learners_and_leads_cannot_import_scenarios(learner, north_lead) -> None:
    for user in (learner, north_lead):
        response = upload_scenario(signed_in(user), json.dumps(DOC).encode())
        assert response.status_code in (302, 403)
        assert response.get("Location", "") in ("/admin/", "") or response["Location"].startswith(
            ("/accounts/login/", "/admin/login/")
        )
    assert not Scenario.objects.exists()


# ------------------------------------------------------------- images, documents


def png(width: int = 8, height: int = 8, compress_level: int = 9) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (11, 61, 110)).save(
        buffer, "PNG", compress_level=compress_level
    )
    return buffer.getvalue()


@pytest.fixture(
    params=[
        "administrator",
        "author",
    ]
)
def uploader(request: pytest.FixtureRequest) -> Client:
    client = signed_in(request.getfixturevalue(request.param))
    assert client.get("/admin/images/add/").status_code == 200, "cannot reach the image upload"
    assert client.get("/admin/documents/add/").status_code == 200, "cannot reach documents"
    return client


def upload_image(client: Client, data: bytes, name: str):  # noqa: ANN201
    return client.post(
        "/admin/images/add/",
        {"title": name, "file": SimpleUploadedFile(name, data, "image/png")},
    )


def test_image_size_limit_setting() -> None:
    assert settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE == 5 * 1024 * 1024


def test_images_are_type_checked_and_size_limited(uploader: Client) -> None:
    refused = {
        "page.png": b"<html><body>not an image</body></html>",
        "zeros.png": b"\x00" * 512,
        "script.png": b"<script>alert(1)</script>",
        "tricky.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        "photo.png.html": png(),
        "huge.png": png(1400, 1400, compress_level=0),  # a real PNG of about 5.6 MB
    }
    assert len(refused["huge.png"]) > settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE
    for name, data in refused.items():
        response = upload_image(uploader, data, name)
        assert response.status_code == 200, name
        assert 'class="error-message"' in response.content.decode(), name
        assert not Image.objects.exists(), name
    assert "too big" in upload_image(uploader, refused["huge.png"], "huge.png").content.decode()
    # The control: a small real PNG is accepted.
    assert upload_image(uploader, png(), "fine.png").status_code == 302
    assert Image.objects.count() == 1


def test_documents_are_limited_to_safe_types(uploader: Client) -> None:
    for name in ("page.html", "page.htm", "drawing.svg", "script.js", "macro.docm"):
        response = uploader.post(
            "/admin/documents/add/",
            {"title": name, "file": SimpleUploadedFile(name, b"<script>alert(1)</script>")},
        )
        assert response.status_code == 200, name
        assert not Document.objects.exists(), name
    response = uploader.post(
        "/admin/documents/add/",
        {"title": "notes", "file": SimpleUploadedFile("notes.txt", b"Plain notes.")},
    )
    assert response.status_code == 302
    assert Document.objects.count() == 1
