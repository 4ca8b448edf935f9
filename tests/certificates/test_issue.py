"""Issuing, snapshot, states, refreshers, revocation, downloads and verification."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader
from wagtail.models import ModelLogEntry

from certificates.models import Certificate
from certificates.rendering import pdf_available
from certificates.rules import State
from certificates.services import certificate_issue, certificate_revoke
from courses.models import Enrolment
from courses.services import enrolment_complete
from tests.certificates.conftest import complete_course
from tests.factories import make_officer


def test_completing_a_course_issues_one_certificate_with_a_snapshot(certified, learner, course):
    certificate = certified
    course.refresh_from_db()
    assert certificate.number.startswith(f"PW-{timezone.localdate().year}-")
    assert len(certificate.code) >= 20
    assert certificate.officer_name == learner.get_full_name()
    assert certificate.service_number == learner.officer.service_number
    assert certificate.force_name == "Police Scotland"
    assert certificate.course_title == "Naloxone refresher"
    assert certificate.course_revision_id == course.live_revision_id
    assert certificate.signatory_name == "Chief Inspector Ada Lovelace"
    assert certificate.expires_on == certificate.issued_on.replace(
        year=certificate.issued_on.year + 1
    )
    assert certificate.state() == State.VALID
    # The PDF was rendered by the (immediate, in tests) task backend.
    assert pdf_available(certificate)
    # Issuing again for the same completion returns the same certificate.
    assert certificate_issue(enrolment=certificate.enrolment).pk == certificate.pk
    assert Certificate.objects.count() == 1


def test_the_certificate_never_changes_after_issue(certified, learner, course) -> None:
    learner.first_name, learner.last_name = "Renamed", "Person"
    learner.save()
    course.title = "A new title"
    course.save_revision().publish()
    certified.refresh_from_db()
    assert certified.officer_name != "Renamed Person"
    assert certified.course_title == "Naloxone refresher"


def test_numbers_are_unique_and_never_reused(certified, course, org) -> None:
    numbers = {certified.number}
    for _ in range(3):
        officer = make_officer(unit=org.leith)
        c = Client()
        c.force_login(officer)
        complete_course(c, course)
    numbers |= set(Certificate.objects.values_list("number", flat=True))
    assert len(numbers) == 4
    latest = Certificate.objects.order_by("-number").first()
    latest_number = latest.number
    latest.delete()  # even if one were deleted, its number is not given out again
    c = Client()
    c.force_login(make_officer(unit=org.leith))
    complete_course(c, course)
    assert Certificate.objects.order_by("-number").first().number > latest_number


def test_a_refresher_supersedes_the_old_certificate(certified, client, course) -> None:
    assert client.post(f"/learning/courses/{course.pk}/start/").status_code == 302
    complete_course(client, course)
    old = Certificate.objects.get(pk=certified.pk)
    new = Certificate.objects.exclude(pk=old.pk).get()
    assert old.superseded_by_id == new.pk
    assert old.state() == State.SUPERSEDED
    assert new.state() == State.VALID


def test_expiring_and_expired(certified) -> None:
    today = certified.expires_on - timedelta(days=30)
    assert certified.state(today) == State.EXPIRING
    assert certified.state(certified.expires_on + timedelta(days=1)) == State.EXPIRED


def test_revoking_needs_a_reason_and_is_logged(certified, administrator) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        certificate_revoke(certificate=certified, by=administrator, reason="   ")
    certificate_revoke(certificate=certified, by=administrator, reason="Issued in error.")
    certified.refresh_from_db()
    assert certified.state() == State.REVOKED
    assert certified.revoked_by == administrator
    entry = ModelLogEntry.objects.get(action="pathways.certificate.revoke")
    assert entry.user_id == administrator.pk and entry.data["reason"] == "Issued in error."
    with pytest.raises(ValidationError, match="already been revoked"):
        certificate_revoke(certificate=certified, by=administrator, reason="again")


# -------------------------------------------------------------------- concurrency


@pytest.mark.django_db(transaction=True)
def test_issue_once_under_concurrency(home, org) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only meaningful on PostgreSQL (CI runs this there)")
    from tests.factories import make_course

    course = make_course(home, title="Concurrent", modules=1, lessons=1, validity_months=12)
    officers = [make_officer(unit=org.dundee) for _ in range(6)]
    enrolments = [Enrolment.objects.create(user=o, course=course) for o in officers]
    barrier = threading.Barrier(12)
    errors: list[BaseException] = []

    def work(enrolment: Enrolment) -> None:
        try:
            barrier.wait()
            from django.db import transaction

            with transaction.atomic():
                enrolment_complete(enrolment=Enrolment.objects.get(pk=enrolment.pk), course=course)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    # Two requests complete each enrolment at the same moment.
    threads = [threading.Thread(target=work, args=(e,)) for e in enrolments for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Certificate.objects.count() == 6
    assert Certificate.objects.values("enrolment").distinct().count() == 6
    assert len(set(Certificate.objects.values_list("number", flat=True))) == 6


# ---------------------------------------------------------------- who sees what


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_officer_downloads_their_pdf(certified, client, learner) -> None:
    response = client.get(f"/certificates/{certified.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(b"".join(response.streaming_content))
    assert learner.get_full_name() in text
    assert "Naloxone refresher" in text
    assert certified.number in text
    assert certified.issued_on.strftime("%-d %B %Y") in text
    assert certified.expires_on.strftime("%-d %B %Y") in text


def test_my_learning_lists_certificates(certified, client) -> None:
    body = client.get("/learning/").content.decode()
    assert certified.number in body and "Valid" in body
    assert f"/certificates/{certified.pk}/download/" in body


def test_a_lost_pdf_is_made_again(certified, client) -> None:
    certified.pdf.storage.delete(certified.pdf.name)
    Certificate.objects.filter(pk=certified.pk).update(pdf_requested_at=None)
    response = client.get(f"/certificates/{certified.pk}/download/")
    assert response.status_code == 200
    certified.refresh_from_db()
    assert pdf_available(certified)


def test_download_before_ready_says_being_prepared(certified, client, settings) -> None:
    certified.pdf.storage.delete(certified.pdf.name)
    Certificate.objects.filter(pk=certified.pk).update(pdf="", pdf_requested_at=None)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    response = client.get(f"/certificates/{certified.pk}/download/")
    assert response.status_code == 202
    assert "being prepared" in response.content.decode()


def test_another_learner_gets_404(certified, org) -> None:
    other = make_officer(unit=org.dundee)
    c = Client()
    c.force_login(other)
    assert c.get(f"/certificates/{certified.pk}/download/").status_code == 404
    assert c.get("/certificates/999999/download/").status_code == 404


def test_leads_see_their_units_certificates_only(certified, north_lead, east_lead, no_staff_mfa):
    lead = Client()
    lead.force_login(north_lead)
    assert lead.get(f"/certificates/{certified.pk}/download/").status_code == 200
    assert certified.number in lead.get("/admin/certificates/").content.decode()
    assert lead.get(f"/admin/certificates/inspect/{certified.pk}/").status_code == 200
    other = Client()
    other.force_login(east_lead)
    assert other.get(f"/certificates/{certified.pk}/download/").status_code == 404
    assert certified.number not in other.get("/admin/certificates/").content.decode()
    assert other.get(f"/admin/certificates/inspect/{certified.pk}/").status_code == 404
    response = other.post(f"/admin/certificates/revoke/{certified.pk}/", {"reason": "no"})
    assert response.status_code == 404
    certified.refresh_from_db()
    assert certified.revoked_at is None


def test_lead_revokes_in_the_admin_with_a_reason(certified, north_lead, no_staff_mfa) -> None:
    lead = Client()
    lead.force_login(north_lead)
    response = lead.post(f"/admin/certificates/revoke/{certified.pk}/", {"reason": ""})
    assert response.status_code == 200
    certified.refresh_from_db()
    assert certified.revoked_at is None
    response = lead.post(
        f"/admin/certificates/revoke/{certified.pk}/", {"reason": "Completed by someone else."}
    )
    assert response.status_code == 302
    certified.refresh_from_db()
    assert certified.state() == State.REVOKED and certified.revoked_by == north_lead
    body = lead.get(f"/admin/certificates/inspect/{certified.pk}/").content.decode()
    assert "Completed by someone else." in body


def test_learner_cannot_revoke(certified, client) -> None:
    response = client.post(f"/admin/certificates/revoke/{certified.pk}/", {"reason": "x"})
    assert response.status_code in (302, 403)
    certified.refresh_from_db()
    assert certified.revoked_at is None


# ------------------------------------------------------------------- verification


def test_public_verification_shows_only_what_it_should(certified) -> None:
    anonymous = Client()
    response = anonymous.get(f"/certificates/verify/{certified.code}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Valid" in body and certified.officer_name in body and "Naloxone refresher" in body
    assert certified.issued_at.strftime("%-d %B %Y") in body
    assert certified.service_number not in body
    assert response["Cache-Control"] == "no-store"


def test_unknown_codes_get_the_same_shape(certified) -> None:
    anonymous = Client()
    real = anonymous.get(f"/certificates/verify/{certified.code}/")
    fake = anonymous.get("/certificates/verify/not-a-real-code-at-all/")
    assert fake.status_code == real.status_code == 200
    assert "No such certificate" in fake.content.decode()
    assert fake.templates[0].name == real.templates[0].name
    assert fake["Cache-Control"] == real["Cache-Control"]


def test_verification_by_number_and_code(certified) -> None:
    anonymous = Client()
    ok = anonymous.get(
        "/certificates/verify/", {"number": certified.number.lower(), "code": certified.code}
    )
    assert "Valid" in ok.content.decode()
    wrong = anonymous.get("/certificates/verify/", {"number": certified.number, "code": "guess"})
    assert "No such certificate" in wrong.content.decode()
    empty = anonymous.get("/certificates/verify/", {"number": "", "code": ""})
    assert empty.status_code == 400 and "This field is required" in empty.content.decode()
    assert anonymous.get("/certificates/verify/").status_code == 200


def test_revoked_and_superseded_show_on_verification(certified, administrator) -> None:
    certificate_revoke(certificate=certified, by=administrator, reason="Error")
    body = Client().get(f"/certificates/verify/{certified.code}/").content.decode()
    assert "Revoked" in body


def test_verification_is_rate_limited(certified, settings) -> None:
    settings.PATHWAYS_VERIFY_RATE_PER_MINUTE = 3
    anonymous = Client()
    for _ in range(3):
        assert anonymous.get(f"/certificates/verify/{certified.code}/").status_code == 200
    response = anonymous.get(f"/certificates/verify/{certified.code}/")
    assert response.status_code == 429
    assert "Try again in a minute" in response.content.decode()


def test_a_revoked_certificates_pdf_is_withheld_and_the_owner_told_why(
    certified, administrator, client
) -> None:
    assert client.get(f"/certificates/{certified.pk}/download/").status_code == 200
    certificate_revoke(
        certificate=certified, by=administrator, reason="Completed on <b>someone else's</b> account"
    )
    response = client.get(f"/certificates/{certified.pk}/download/")
    body = response.content.decode()
    assert response.status_code == 410 and response["Content-Type"].startswith("text/html")
    assert certified.number in body and "revoked on" in body
    assert "Completed on &lt;b&gt;someone else&#x27;s&lt;/b&gt; account" in body
    assert "Why revoked" in client.get("/learning/").content.decode()
