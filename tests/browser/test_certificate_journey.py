"""The demo recruit completes the whole demo course, downloads the certificate and checks it."""

from __future__ import annotations

import io
from urllib.parse import urlparse

import pytest
from pypdf import PdfReader

from certificates.models import Certificate
from certificates.pdf import format_uk_date
from courses.models import CoursePage, LessonPage
from courses.selectors import course_outline
from officers.models import User
from officers.selectors import officer_jurisdiction
from tests.browser.test_assessment_journey import pass_final_assessment
from tests.browser.test_journeys import complete_lesson, sign_in

pytestmark = pytest.mark.browser


def test_recruit_completes_the_course_and_verifies_the_certificate(page, demo) -> None:  # noqa: ANN001
    course = CoursePage.objects.get(slug="public-health-approach")
    # The lessons of the recruit's own outline (their force's jurisdiction), in order.
    recruit = User.objects.get(email="recruit@demo.police.uk")
    outline = course_outline(course, jurisdiction=officer_jurisdiction(recruit))
    pages = LessonPage.objects.in_bulk([ref.id for ref in outline.lessons])
    lessons = [pages[ref.id] for ref in outline.lessons]
    sign_in(page, "recruit@demo.police.uk")
    page.goto(course.url)
    page.get_by_role("link", name="Start the course").click()
    for lesson in lessons:
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == lesson.title
        complete_lesson(page, lesson)
    page.wait_for_load_state()
    # The demo course has a final assessment: the lessons alone do not complete it.
    pass_final_assessment(page, course)
    assert "You have completed the course" in page.inner_text("main")

    page.goto("/learning/")
    row = page.locator("table tbody tr").first
    assert course.title in row.inner_text() and "Valid" in row.inner_text()
    with page.expect_download() as download_info:
        row.get_by_role("link", name="Download PDF").click()
    pdf = PdfReader(io.BytesIO(download_info.value.path().read_bytes()))
    text = pdf.pages[0].extract_text()
    number = download_info.value.suggested_filename.removesuffix(".pdf")
    assert "Aisha Rahman" in text and number in text
    assert "public-health approach" in text.lower()
    certificate = Certificate.objects.get(number=number)
    assert format_uk_date(certificate.issued_on) in text
    assert format_uk_date(certificate.expires_on) in text

    # The QR code holds the verification address; the PDF links to the same address.
    uris = [
        a.get_object()["/A"]["/URI"]
        for a in pdf.pages[0].get("/Annots", [])
        if a.get_object().get("/A", {}).get("/URI")
    ]
    verify = next(u for u in uris if "/certificates/verify/" in u)
    page.goto(urlparse(verify).path)
    result = page.locator(".verify-result").inner_text()
    assert "Valid" in result and "Aisha Rahman" in result
