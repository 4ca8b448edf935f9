"""The certificate PDF: gathering what it shows and storing the rendered file. Run by the
background task in certificates/tasks.py; certificates/pdf.py does the rendering."""

from __future__ import annotations

import secrets

from django.core.files.base import ContentFile
from wagtail.images import get_image_model

from certificates.models import Certificate
from certificates.pdf import CertificateData, render_certificate_pdf
from officers.jurisdictions import Jurisdiction


def certificate_data(certificate: Certificate) -> CertificateData:
    signature = None
    image = certificate.course.signatory_image_id
    if image:
        file = get_image_model().objects.get(pk=image).file
        try:
            with file.open("rb") as handle:
                signature = handle.read()
        except OSError:
            signature = None
    return CertificateData(
        number=certificate.number,
        officer_name=certificate.officer_name,
        service_number=certificate.service_number,
        force_name=certificate.force_name,
        course_title=certificate.course_title,
        issued_on=certificate.issued_on,
        expires_on=certificate.expires_on,
        verify_url=certificate.verify_url(),
        signatory_name=certificate.signatory_name,
        signatory_role=certificate.signatory_role,
        signatory_image=signature,
        assessment_percent=certificate.assessment_percent,
        jurisdiction=jurisdiction_name(certificate.jurisdiction),
    )


def jurisdiction_name(code: str) -> str:
    """ "Scotland", "England and Wales": the jurisdiction a certificate names (blank when it
    was not known, as on certificates issued before jurisdictions)."""
    return str(Jurisdiction(code).label) if code in Jurisdiction.values else ""


def pdf_available(certificate: Certificate) -> bool:
    return bool(certificate.pdf) and certificate.pdf.storage.exists(certificate.pdf.name)


def certificate_render(certificate_id: int) -> Certificate | None:
    """Render and store the PDF (the background task's work). Safe to run twice."""
    certificate = Certificate.objects.filter(pk=certificate_id).first()
    if certificate is None:
        return None
    if pdf_available(certificate):
        return certificate
    content = render_certificate_pdf(certificate_data(certificate))
    name = f"{certificate.number}-{secrets.token_hex(8)}.pdf"
    certificate.pdf.save(name, ContentFile(content), save=False)
    Certificate.objects.filter(pk=certificate.pk).update(pdf=certificate.pdf.name)
    return certificate
