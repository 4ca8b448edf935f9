"""Tests for certificates/pdf.py: the certificate PDF and its locked-down URL fetcher.

No database: these render real PDFs with WeasyPrint and read them back with pypdf.
"""

from __future__ import annotations

import base64
import io
import logging
import re
import socket
from dataclasses import replace
from datetime import date
from pathlib import Path

import pypdf
import pytest
import segno
from PIL import Image

from certificates import pdf
from certificates.pdf import (
    CertificateData,
    ResourceRefused,
    SafeURLFetcher,
    format_uk_date,
    html_to_pdf,
    render_certificate_html,
    render_certificate_pdf,
    safe_url_fetcher,
    signature_data_uri,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
STATIC_CSS = pdf.STATIC_DIR / "certificates" / "certificate.css"
VERIFY_URL = "https://pathways.example.police.uk/certificates/verify/PW-2026-004213/"

CERTIFICATE = CertificateData(
    number="PW-2026-004213",
    officer_name="Siobhán Ní Bhriain",
    service_number="S1234",
    force_name="Police Scotland",
    course_title="Naloxone: recognising and responding to an opioid overdose",
    issued_on=date(2026, 11, 21),
    expires_on=date(2029, 11, 21),
    verify_url=VERIFY_URL,
    signatory_name="Dr Jane Smith",
    signatory_role="Head of Training, Scottish Police College",
)


def _png() -> bytes:
    out = io.BytesIO()
    segno.make("signature").save(out, kind="png", scale=3)
    return out.getvalue()


def _reader(document: bytes) -> pypdf.PdfReader:
    assert document.startswith(b"%PDF-")
    return pypdf.PdfReader(io.BytesIO(document))


def _text(document: bytes) -> str:
    """The PDF's text with runs of whitespace (line breaks included) made single spaces."""
    reader = _reader(document)
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Any attempt to open a socket fails the test (and is recorded)."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object, *args: object) -> None:
        attempts.append(address)
        raise AssertionError(f"network connection attempted to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.fixture
def fetch_log(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Exception | None]]:
    """Every URL WeasyPrint asks the fetcher for, with the exception it raised (or None)."""
    calls: list[tuple[str, Exception | None]] = []
    original = SafeURLFetcher.fetch

    def recording(self: SafeURLFetcher, url: str, headers: dict | None = None) -> object:
        try:
            response = original(self, url, headers)
        except Exception as error:
            calls.append((url, error))
            raise
        calls.append((url, None))
        return response

    monkeypatch.setattr(SafeURLFetcher, "fetch", recording)
    return calls


# --- What the certificate says ----------------------------------------------------------------


def test_certificate_shows_every_field() -> None:
    text = _text(render_certificate_pdf(CERTIFICATE))

    for expected in [
        "Pathways",
        "Certificate of completion",
        "Siobhán Ní Bhriain",
        "Service number S1234",
        "Police Scotland",
        "Naloxone: recognising and responding to an opioid overdose",
        "Completed on 21 November 2026",
        "Valid until 21 November 2029",
        "Dr Jane Smith",
        "Head of Training, Scottish Police College",
        "PW-2026-004213",
        "Check this certificate at",
    ]:
        assert expected in text
    assert "Does not expire" not in text
    # The address may wrap; it is all there once the line breaks are taken out.
    assert VERIFY_URL in text.replace(" ", "")


def test_certificate_without_expiry_says_it_does_not_expire() -> None:
    text = _text(render_certificate_pdf(replace(CERTIFICATE, expires_on=None)))

    assert "Does not expire" in text
    assert "Valid until" not in text
    assert "Completed on 21 November 2026" in text


def test_optional_fields_can_be_blank() -> None:
    data = replace(CERTIFICATE, force_name="", signatory_name="", signatory_role="")
    text = _text(render_certificate_pdf(data))

    assert "Service number S1234" in text
    assert "Police Scotland" not in text
    assert "Dr Jane Smith" not in text


def test_same_data_gives_the_same_bytes() -> None:
    first = render_certificate_pdf(CERTIFICATE)

    assert render_certificate_pdf(CERTIFICATE) == first
    metadata = _reader(first).metadata
    assert metadata.title == "Certificate of completion PW-2026-004213: " + CERTIFICATE.course_title
    assert metadata.creation_date.date() == date(2026, 11, 21)


def test_certificate_renders_without_weasyprint_errors(caplog: pytest.LogCaptureFixture) -> None:
    """No refused resource, no missing alt text or language in the tagged PDF."""
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_certificate_pdf(replace(CERTIFICATE, signatory_image=_png()))

    assert [record.getMessage() for record in caplog.records] == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 11, 21), "21 November 2026"),
        (date(2027, 1, 1), "1 January 2027"),
        (date(2028, 2, 29), "29 February 2028"),
    ],
)
def test_dates_are_written_the_uk_way(value: date, expected: str) -> None:
    assert format_uk_date(value) == expected


def test_pdf_is_one_a4_landscape_page() -> None:
    reader = _reader(render_certificate_pdf(CERTIFICATE))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(841.89, abs=1)
    assert float(box.height) == pytest.approx(595.28, abs=1)


def test_very_long_fields_still_fit_on_one_page() -> None:
    data = replace(
        CERTIFICATE,
        officer_name="Alexandra Wilhelmina Fitzgerald-Montgomery-Wolfeschlegelsteinhausen " * 2,
        force_name="Police Service of Northern Ireland and British Transport Police " * 2,
        course_title="Trauma-informed practice: recognising, responding and referring " * 4,
        signatory_name="Detective Chief Superintendent Alexandra Montgomery-Smythe " * 2,
        signatory_role="Head of Learning and Development, Scottish Police College " * 2,
        verify_url=VERIFY_URL + "?" + "x" * 120,
    )

    assert len(_reader(render_certificate_pdf(data)).pages) == 1


@pytest.mark.parametrize(
    "name",
    ["Siobhán Ní Bhriain", "Zoë Łukasiewicz", "Dafydd ap Gruffydd", "Jürgen Øvergård-Ōtsuka"],
)
def test_unicode_names_survive(name: str) -> None:
    assert name in _text(render_certificate_pdf(replace(CERTIFICATE, officer_name=name)))


def test_verification_address_is_a_link() -> None:
    page = _reader(render_certificate_pdf(CERTIFICATE)).pages[0]

    uris = {
        annotation.get_object()["/A"]["/URI"]
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    }
    assert uris == {VERIFY_URL}


def test_only_web_addresses_become_links() -> None:
    html = render_certificate_html(replace(CERTIFICATE, verify_url="javascript:alert(1)"))

    assert "href" not in html
    assert "javascript:alert(1)" in html  # still printed, as text


def test_qr_code_encodes_the_verification_address() -> None:
    html = render_certificate_html(CERTIFICATE)
    match = re.search(r'class="qr" src="data:image/png;base64,([^"]+)"', html)
    assert match

    image = Image.open(io.BytesIO(base64.b64decode(match[1]))).convert("1")
    expected = segno.make(VERIFY_URL, error="m", micro=False)
    size = expected.symbol_size(scale=1, border=4)
    assert image.size == size
    pixels = image.load()
    dark = [[pixels[x, y] == 0 for x in range(size[0])] for y in range(size[1])]
    assert dark == [[bool(module) for module in row] for row in expected.matrix_iter(border=4)]


# --- Signature image --------------------------------------------------------------------------


def test_valid_png_signature_is_drawn() -> None:
    with_signature = _reader(render_certificate_pdf(replace(CERTIFICATE, signatory_image=_png())))
    without = _reader(render_certificate_pdf(CERTIFICATE))

    # The QR code is one image; the signature is the other.
    assert len(without.pages[0].images) == 1
    assert len(with_signature.pages[0].images) == 2


@pytest.mark.parametrize(
    "garbage",
    [
        b"not an image at all",
        b"GIF89a\x01\x00\x01\x00",
        b"<svg xmlns='http://www.w3.org/2000/svg'><image href='file:///etc/passwd'/></svg>",
        b"",
    ],
)
def test_anything_but_png_or_jpeg_signature_is_left_out(
    garbage: bytes, fetch_log: list[tuple[str, Exception | None]]
) -> None:
    data = replace(CERTIFICATE, signatory_image=garbage)

    assert signature_data_uri(garbage) == ""
    reader = _reader(render_certificate_pdf(data))
    assert len(reader.pages) == 1
    assert len(reader.pages[0].images) == 1
    assert "Dr Jane Smith" in _text(render_certificate_pdf(data))
    assert not any("passwd" in url for url, _ in fetch_log)


def test_signature_data_uri_checks_the_magic_number() -> None:
    png = _png()
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 16

    assert signature_data_uri(png) == "data:image/png;base64," + base64.b64encode(png).decode()
    assert signature_data_uri(jpeg).startswith("data:image/jpeg;base64,")
    assert signature_data_uri(None) == ""
    assert signature_data_uri(png + b"\x00" * pdf.MAX_SIGNATURE_BYTES) == ""


# --- Escaping ---------------------------------------------------------------------------------

INJECTION = '<img src="file:///etc/passwd">'


def test_officer_name_is_printed_as_text_not_markup(
    fetch_log: list[tuple[str, Exception | None]],
) -> None:
    data = replace(CERTIFICATE, officer_name=INJECTION)

    html = render_certificate_html(data)
    assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in html
    assert INJECTION not in html

    document = render_certificate_pdf(data)
    assert INJECTION in _text(document)
    assert not any("passwd" in url for url, _ in fetch_log)
    # Only the QR code (a data: URI) was fetched.
    assert [url.split(",")[0] for url, _ in fetch_log] == ["data:image/png;base64"]


@pytest.mark.parametrize(
    "field",
    [
        "officer_name",
        "service_number",
        "force_name",
        "course_title",
        "number",
        "signatory_name",
        "signatory_role",
    ],
)
def test_every_text_field_is_escaped(
    field: str, fetch_log: list[tuple[str, Exception | None]]
) -> None:
    payload = (
        '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        "<style>@import url(file:///etc/passwd);</style>"
    )
    data = replace(CERTIFICATE, **{field: payload})

    html = render_certificate_html(data)
    assert '<link rel="stylesheet" href="http://' not in html
    assert "<style>" not in html
    render_certificate_pdf(data)
    assert all(url.startswith("data:") for url, _ in fetch_log)


# --- The URL fetcher --------------------------------------------------------------------------

STATIC_DIR_URL = (pdf.STATIC_DIR / "certificates").as_uri()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "https://example.com/certificate.css",
        "HTTP://example.com/x.png",
        "ftp://example.com/x.png",
        "gopher://example.com/x",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file:/etc/passwd",
        "file://fileserver.example/share/certificate.css",
        f"file://{PROJECT_DIR}/certificates/pdf.py",
        f"file://{PROJECT_DIR}/site/settings.py",
        f"{STATIC_DIR_URL}/../../pdf.py",
        f"{STATIC_DIR_URL}/%2e%2e/%2e%2e/pdf.py",
        f"{STATIC_DIR_URL}/../../../../../../../../etc/passwd",
        f"{STATIC_DIR_URL}/missing.css",
        f"{STATIC_DIR_URL}/certificate.css%00.png",
        "pathways-static:/../pdf.py",
        "pathways-static:/certificates/../../pdf.py",
        "pathways-static:/certificates/%2e%2e/%2e%2e/pdf.py",
        "pathways-static:/%2Fetc%2Fpasswd",
        "pathways-static:/etc/passwd",
        "pathways-static://example.com/certificates/certificate.css",
        "pathways-static:/certificates/missing.css",
        "certificates/certificate.css",
        "../certificate.css",
    ],
)
def test_fetcher_refuses_anything_but_static_files(url: str, no_network: list[object]) -> None:
    with pytest.raises(ResourceRefused):
        safe_url_fetcher(url)
    assert no_network == []


@pytest.mark.parametrize(
    "url",
    [
        STATIC_CSS.as_uri(),
        "file://localhost" + STATIC_CSS.as_uri().removeprefix("file://"),
        f"{STATIC_DIR_URL}/../certificates/certificate.css",
        "pathways-static:/certificates/certificate.css",
        "pathways-static:certificates/certificate.css",
    ],
)
def test_fetcher_serves_our_own_static_files(url: str) -> None:
    response = safe_url_fetcher(url)

    assert response.read() == STATIC_CSS.read_bytes()
    assert response.content_type == "text/css"
    assert response.url == STATIC_CSS.as_uri()


def test_fetcher_serves_data_uris() -> None:
    body = b"\x89PNG\r\n\x1a\nnot really"
    response = safe_url_fetcher("data:image/png;base64," + base64.b64encode(body).decode())

    assert response.read() == body
    assert response.content_type == "image/png"


def test_fetcher_serves_files_from_staticfiles_dirs_but_not_through_symlinks(
    settings: object, tmp_path: Path
) -> None:
    static = tmp_path / "static"
    (static / "brand").mkdir(parents=True)
    (static / "brand" / "crest.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (static / "brand" / "notes.txt").write_text("not an asset")
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    (static / "brand" / "escape.css").symlink_to(secret)
    (static / "brand" / "passwd.css").symlink_to("/etc/passwd")
    settings.STATICFILES_DIRS = [static]

    crest = safe_url_fetcher("pathways-static:/brand/crest.svg")
    assert crest.read().startswith(b"<svg")
    assert crest.content_type == "image/svg+xml"
    assert safe_url_fetcher((static / "brand" / "crest.svg").as_uri()).read().startswith(b"<svg")

    for url in [
        "pathways-static:/brand/escape.css",
        "pathways-static:/brand/passwd.css",
        "pathways-static:/brand/notes.txt",
        (static / "brand" / "escape.css").as_uri(),
        (static / "brand" / "passwd.css").as_uri(),
        (static / "brand" / "notes.txt").as_uri(),
        secret.as_uri(),
    ]:
        with pytest.raises(ResourceRefused):
            safe_url_fetcher(url)


def test_html_with_remote_and_local_references_renders_without_touching_them(
    fetch_log: list[tuple[str, Exception | None]], no_network: list[object]
) -> None:
    svg = "<svg xmlns='http://www.w3.org/2000/svg'><image href='file:///etc/passwd'/></svg>"
    html = f"""<!DOCTYPE html>
<html><head>
<link rel="stylesheet" href="file:///etc/passwd">
<link rel="stylesheet" href="http://127.0.0.1:9/style.css">
<style>
@import url(https://example.com/import.css);
@font-face {{ font-family: Remote; src: url(http://127.0.0.1:9/font.woff2); }}
p {{ background: url(ftp://example.com/bg.png); font-family: Remote, serif; }}
</style>
</head><body>
<p>Still rendered</p>
<img src="http://127.0.0.1:9/x.png" alt="">
<img src="../../../../../../../../etc/passwd" alt="">
<img src="data:image/svg+xml,{svg.replace("'", "%27").replace("<", "%3C").replace(">", "%3E")}">
</body></html>"""

    document = html_to_pdf(html)

    assert "Still rendered" in _text(document)
    assert no_network == []
    refused = {url for url, error in fetch_log if isinstance(error, ResourceRefused)}
    for url in [
        "file:///etc/passwd",
        "http://127.0.0.1:9/style.css",
        "https://example.com/import.css",
        "http://127.0.0.1:9/font.woff2",
        "ftp://example.com/bg.png",
        "http://127.0.0.1:9/x.png",
    ]:
        assert url in refused
    # Everything that was not refused was a data: URI.
    assert all(url.startswith("data:") for url, error in fetch_log if error is None)


def test_weasyprint_is_imported_only_by_certificates_pdf() -> None:
    packages = ["site", "officers", "courses", "scenarios", "certificates"]
    importers = [
        path.relative_to(PROJECT_DIR).as_posix()
        for package in packages
        for path in (PROJECT_DIR / package).rglob("*.py")
        if re.search(r"^\s*(import|from)\s+weasyprint\b", path.read_text(), re.MULTILINE)
    ]
    assert importers == ["certificates/pdf.py"]
