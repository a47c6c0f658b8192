"""Certificates: the key their verification codes are derived with, the public verification
link, and the printable PDF with the link as a QR code."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

import pycountry
import segno
from fpdf import FPDF
from PIL import Image

from services.predeparture.completions.domain import display_code
from shared.reference.names import romanise_lao
from shared.settings import get_settings

VERIFY_PATH = "/v1/certificates/verify/"
# Outside production (where LABOURX_PUBLIC_BASE_URL is required) the link points at the
# development runner's predeparture API.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:8103"

# Derivation label: a dedicated key is derived from the secret, so a certificate code never
# equals anything else signed with it.
_KEY_LABEL = b"labourx/predeparture/certificate-verification-codes/v1"


def code_key() -> bytes:
    """The key verification codes are derived with: LABOURX_CERTIFICATE_KEY (required in
    production), or outside production the JWT secret. Every predeparture process of a
    deployment reads the same environment, so API and consumers derive the same codes."""
    settings = get_settings()
    secret = settings.certificate_key or settings.jwt_secret
    return hmac.new(secret.get_secret_value().encode(), _KEY_LABEL, hashlib.sha256).digest()


def verification_link(code: str) -> str:
    base = get_settings().public_base_url or DEVELOPMENT_BASE_URL
    return f"{base.rstrip('/')}{VERIFY_PATH}{code}"


@dataclass(frozen=True)
class CertificateContent:
    certificate_number: str
    initials: str
    destination_country: str
    completed_on: date
    valid_until: date
    office_code: str | None
    curriculum_title_en: str
    code: str


def _printable(text: str) -> str:
    """Text the PDF's built-in font can show: Lao initials romanised, anything else replaced."""
    if not text.isascii():
        # Initials are written "ບ. ສ.": each romanised apart so that the dots stay.
        words = []
        for word in text.split():
            latin = romanise_lao(word).upper() or word
            words.append(f"{latin}." if word.endswith(".") and not latin.endswith(".") else latin)
        text = " ".join(words)
    return text.encode("latin-1", "replace").decode("latin-1")


def _country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return f"{country.name} ({code})" if country else code


def qr_image(link: str, module_px: int = 8) -> Image.Image:
    """The link as a QR code (error correction M, 4-module quiet zone), `module_px` pixels a
    module so that it stays sharp however the viewer scales it."""
    matrix = segno.make_qr(link, error="m").matrix
    border = 4
    side = (len(matrix) + 2 * border) * module_px
    image = Image.new("L", (side, side), 255)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                left, top = (x + border) * module_px, (y + border) * module_px
                image.paste(0, (left, top, left + module_px, top + module_px))
    return image


def render_pdf(content: CertificateContent) -> bytes:
    """An A4 landscape certificate: who (initials only), for where, when, until when, its
    number, and the QR code and code to check it."""
    link = verification_link(content.code)
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.set_title(f"Pre-departure orientation certificate {content.certificate_number}")
    pdf.set_author("labourx")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_draw_color(30, 60, 120)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)

    pdf.set_xy(20, 24)
    pdf.set_font("Helvetica", "B", 26)
    pdf.cell(257, 12, "Certificate of pre-departure orientation", align="C")
    pdf.set_xy(20, 38)
    pdf.set_font("Helvetica", "", 13)
    pdf.cell(257, 8, _printable(content.curriculum_title_en), align="C")

    pdf.set_xy(20, 60)
    pdf.set_font("Helvetica", "", 14)
    pdf.cell(257, 8, "This certifies that the person with the initials", align="C")
    pdf.set_xy(20, 72)
    pdf.set_font("Helvetica", "B", 30)
    pdf.cell(257, 14, _printable(content.initials) or "-", align="C")
    pdf.set_xy(20, 92)
    pdf.set_font("Helvetica", "", 14)
    pdf.cell(257, 8, "completed the pre-departure orientation for work in", align="C")
    pdf.set_xy(20, 102)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(257, 10, _printable(_country_name(content.destination_country)), align="C")

    facts = [
        ("Completed on", content.completed_on.isoformat()),
        ("Valid until", content.valid_until.isoformat()),
        ("Certificate number", content.certificate_number),
        ("Issued by", content.office_code or "-"),
        ("Verification code", display_code(content.code)),
    ]
    y = 126.0
    for label, value in facts:
        pdf.set_xy(30, y)
        pdf.set_font("Helvetica", "", 12)
        pdf.cell(55, 8, label)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(100, 8, _printable(value))
        y += 10

    # The QR code opens the public check; the image is also a link for a PDF read on screen.
    pdf.image(
        qr_image(link),
        x=212,
        y=122,
        w=55,
        h=55,
        link=link,
        alt_text="QR code of the verification link",
    )
    pdf.set_xy(180, 180)
    pdf.set_font("Helvetica", "", 8)
    pdf.cell(100, 5, _printable(link), align="C")
    pdf.set_xy(20, 188)
    pdf.cell(
        257,
        5,
        "Anyone may check this certificate with the code above: the check shows only the"
        " initials, destination, dates and whether it is valid, withdrawn or expired.",
        align="C",
    )
    return bytes(pdf.output())
