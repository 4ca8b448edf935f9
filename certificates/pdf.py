"""Certificate PDFs: the only module in Pathways that imports WeasyPrint.

`render_certificate_pdf(data)` turns a `CertificateData` snapshot into the bytes of a one-page
A4 landscape PDF. Every text field goes through Django's autoescaping; the QR code and the
optional signature are embedded as `data:` URIs; and WeasyPrint may load nothing but those
`data:` URIs and the project's own static files (`SafeURLFetcher`): no network, no file
outside the static directories.

WeasyPrint is slow to set up, so each thread parses the stylesheet and builds its font
configuration once and reuses them for every later PDF (a new FontConfiguration per PDF also
keeps about 0.25 MB that is never given back, as `bench/certificates.py` shows). Import this
module only where PDFs are made (tasks, the download view): importing WeasyPrint takes about
half a second.
"""

from __future__ import annotations

import base64
import functools
import mimetypes
import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from urllib import request
from urllib.parse import unquote, urlsplit

import segno
import weasyprint
from django.template import Context, Engine
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

__all__ = [
    "STATIC_SCHEME",
    "CertificateData",
    "ResourceRefused",
    "SafeURLFetcher",
    "format_uk_date",
    "html_to_pdf",
    "render_certificate_html",
    "render_certificate_pdf",
    "safe_url_fetcher",
    "signature_data_uri",
    "static_roots",
]

APP_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = APP_DIR / "templates"
STATIC_DIR = APP_DIR / "static"
CERTIFICATE_TEMPLATE = "certificates/certificate.html"
CERTIFICATE_CSS = STATIC_DIR / "certificates" / "certificate.css"
# Relative URLs in the certificate resolve against our own static folder (and are then checked
# by the fetcher like any other URL).
BASE_URL = (STATIC_DIR / "certificates").as_uri() + "/"

# `pathways-static:/certificates/certificate.css` names a static file by the same relative path
# as `{% static %}`; it is looked up in our static folder, then through Django's static finders.
STATIC_SCHEME = "pathways-static"
STATIC_SUFFIXES = frozenset(
    {".css", ".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ttf", ".otf", ".woff", ".woff2"}
)
MAX_STATIC_BYTES = 5 * 1024 * 1024
MAX_SIGNATURE_BYTES = 1024 * 1024

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9.+-]*):")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on a certificate: a snapshot taken when it was issued."""

    number: str
    officer_name: str
    service_number: str
    force_name: str
    course_title: str
    issued_on: date
    expires_on: date | None
    verify_url: str
    signatory_name: str
    signatory_role: str
    signatory_image: bytes | None = None
    # The final assessment's score, where the course had one.
    assessment_percent: int | None = None
    # The jurisdiction whose content was completed, by name ("Scotland"); blank if not known.
    jurisdiction: str = ""


# --- Rendering ------------------------------------------------------------------------------


def format_uk_date(value: date) -> str:
    """`21 November 2026`: fixed English month names, whatever the process locale."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def render_certificate_html(data: CertificateData) -> str:
    """The certificate as an HTML document (styled by `certificate.css`, applied by the PDF)."""
    engine = _engine()
    context = Context(_context(data), autoescape=engine.autoescape)
    return engine.get_template(CERTIFICATE_TEMPLATE).render(context)


def render_certificate_pdf(data: CertificateData) -> bytes:
    """The certificate as the bytes of a one-page A4 landscape PDF."""
    return html_to_pdf(render_certificate_html(data))


def html_to_pdf(html: str) -> bytes:
    """Render an HTML string with the certificate stylesheet, loading only safe resources."""
    resources = _resources()
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=safe_url_fetcher)
    return document.write_pdf(
        stylesheets=[resources.css], font_config=resources.font_config, pdf_tags=True
    )


def _context(data: CertificateData) -> dict[str, object]:
    verify_url = data.verify_url.strip()
    scheme = urlsplit(verify_url).scheme.lower() if verify_url else ""
    return {
        "number": data.number,
        "officer_name": data.officer_name,
        "service_number": data.service_number,
        "force_name": data.force_name,
        "course_title": data.course_title,
        "issued_on": format_uk_date(data.issued_on),
        # The PDF's creation date is the issue date: the same data always gives the same bytes.
        "issued_iso": data.issued_on.isoformat(),
        "expires_on": format_uk_date(data.expires_on) if data.expires_on else "",
        "verify_url": verify_url,
        # Only web addresses become clickable links in the PDF.
        "verify_href": verify_url if scheme in {"http", "https"} else "",
        "qr_uri": _qr_data_uri(verify_url),
        "signatory_name": data.signatory_name,
        "signatory_role": data.signatory_role,
        "assessment_percent": data.assessment_percent,
        "jurisdiction": data.jurisdiction,
        "signature_uri": signature_data_uri(data.signatory_image),
        "name_size": _size_class(data.officer_name, long=28, very_long=44),
        "title_size": _size_class(data.course_title, long=60, very_long=110),
    }


def _size_class(text: str, *, long: int, very_long: int) -> str:
    """Long names and titles get a smaller type size so the certificate stays on one page."""
    if len(text) > very_long:
        return "very-long"
    if len(text) > long:
        return "long"
    return ""


def _qr_data_uri(url: str) -> str:
    if not url:
        return ""
    # Error correction level M (15 %) for a printed page that gets handled; segno picks the
    # mask by the standard's penalty rules (most of its ~3 ms). One pixel per module, drawn
    # without smoothing (`image-rendering: pixelated` in the stylesheet): a few hundred bytes,
    # sharp at any size, and quicker for WeasyPrint to draw than the same code as an SVG path.
    return segno.make(url, error="m", micro=False).png_data_uri(scale=1, border=4)


def signature_data_uri(image: bytes | None) -> str:
    """A `data:` URI for a PNG or JPEG signature; "" for anything else (it is then left out)."""
    if not image or len(image) > MAX_SIGNATURE_BYTES:
        return ""
    if image.startswith(_PNG_MAGIC):
        mime = "image/png"
    elif image.startswith(_JPEG_MAGIC):
        mime = "image/jpeg"
    else:
        return ""
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


@functools.cache
def _engine() -> Engine:
    """Our own template engine, autoescaping: the app need not be in INSTALLED_APPS."""
    return Engine(dirs=[str(TEMPLATE_DIR)], autoescape=True)


@dataclass(frozen=True)
class _Resources:
    css: weasyprint.CSS
    font_config: FontConfiguration


_local = threading.local()


def _resources() -> _Resources:
    """The parsed stylesheet and font configuration, built once per thread.

    Pango's font maps are not safe to share between threads, so each thread keeps its own.
    """
    resources = getattr(_local, "resources", None)
    if resources is None:
        font_config = FontConfiguration()
        css = weasyprint.CSS(
            filename=str(CERTIFICATE_CSS),
            base_url=BASE_URL,
            url_fetcher=safe_url_fetcher,
            font_config=font_config,
        )
        resources = _local.resources = _Resources(css=css, font_config=font_config)
    return resources


# --- The URL fetcher ------------------------------------------------------------------------


class ResourceRefused(ValueError):
    """The fetcher refused a URL: it is neither a `data:` URI nor one of our static files."""


class SafeURLFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves `data:` URIs and the project's static files only.

    Allowed:
    - `data:` URIs (they carry their content; nothing is fetched);
    - `file:` URLs (no host, or `localhost`) and `pathways-static:/<path>` URLs whose file,
      once `..` and symlinks are resolved, lies inside one of `static_roots()`, has a static
      file suffix and is at most MAX_STATIC_BYTES.

    Everything else (http, https, ftp, other files, traversal) raises `ResourceRefused`;
    WeasyPrint then logs the error and renders without that resource. Nothing here ever opens
    a network connection: the handlers set up by `URLFetcher.__init__` are never used.

    WeasyPrint 70 wants a `URLFetcher` instance, not a plain function (it reads the fetcher's
    `_fail_on_errors` when a fetch fails), hence the subclass and the `safe_url_fetcher`
    instance, which is called as `safe_url_fetcher(url)` and returns a `URLFetcherResponse`.
    """

    def __init__(self, timeout: int = 10, ssl_context: object = None, **kwargs: object) -> None:
        kwargs.update(
            allowed_protocols={"data", "file", STATIC_SCHEME},
            allow_redirects=False,
            fail_on_errors=False,
        )
        super().__init__(timeout=timeout, ssl_context=ssl_context, **kwargs)

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        match = _SCHEME_RE.match(url)
        scheme = match[1].lower() if match else ""
        if scheme == "data":
            return _data_response(url)
        if scheme == "file":
            return _static_response(_path_from_file_url(url))
        if scheme == STATIC_SCHEME:
            return _static_response(_path_from_static_url(url))
        raise ResourceRefused(f"Only data: URIs and static files may be loaded, not {url!r}")


safe_url_fetcher = SafeURLFetcher()


def static_roots() -> list[Path]:
    """The folders static files may come from: ours, STATICFILES_DIRS and apps' static/."""
    candidates = [STATIC_DIR]
    from django.apps import apps
    from django.conf import settings

    if settings.configured:
        for entry in getattr(settings, "STATICFILES_DIRS", []):
            candidates.append(Path(entry[1] if isinstance(entry, list | tuple) else entry))
        if apps.ready:
            candidates.extend(Path(config.path) / "static" for config in apps.get_app_configs())
    roots = []
    for candidate in candidates:
        root = candidate.resolve()
        if root.is_dir() and root not in roots:
            roots.append(root)
    return roots


def _data_response(url: str) -> URLFetcherResponse:
    # Only data: URLs get here; DataHandler decodes them and opens nothing.
    response = request.DataHandler().data_open(request.Request(url))  # noqa: S310
    body = response.read()
    return URLFetcherResponse(
        url, body, headers={"Content-Type": response.headers.get("Content-Type", "text/plain")}
    )


def _path_from_file_url(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in {"", "localhost"}:
        raise ResourceRefused(f"File URLs on another host are refused: {url!r}")
    return Path(request.url2pathname(parts.path))


def _path_from_static_url(url: str) -> Path:
    parts = urlsplit(url)
    relative = unquote(parts.path).lstrip("/")
    segments = PurePosixPath(relative).parts
    if (
        parts.netloc
        or not segments
        or any(segment in {".", ".."} for segment in segments)
        or "\\" in relative
        or "\x00" in relative
    ):
        raise ResourceRefused(f"Not a static file path: {url!r}")
    own = STATIC_DIR.joinpath(*segments)
    if own.is_file():
        return own
    from django.apps import apps
    from django.conf import settings

    if settings.configured and apps.ready:
        from django.contrib.staticfiles import finders

        found = finders.find(relative)
        if found:
            return Path(found)
    raise ResourceRefused(f"No such static file: {url!r}")


def _static_response(path: Path) -> URLFetcherResponse:
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError) as error:
        raise ResourceRefused(f"No such static file: {str(path)!r}") from error
    if not any(resolved.is_relative_to(root) for root in static_roots()):
        raise ResourceRefused(f"Outside the static folders: {str(path)!r}")
    if resolved.suffix.lower() not in STATIC_SUFFIXES or not resolved.is_file():
        raise ResourceRefused(f"Not a static asset: {str(path)!r}")
    if resolved.stat().st_size > MAX_STATIC_BYTES:
        raise ResourceRefused(f"Static file too large: {str(path)!r}")
    content_type = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
    # The response URL is the resolved file: relative URLs inside a stylesheet resolve
    # against it, and are checked again when fetched.
    return URLFetcherResponse(
        resolved.as_uri(), resolved.read_bytes(), headers={"Content-Type": content_type}
    )
