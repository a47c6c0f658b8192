"""Certificates: the key their verification codes are derived with, the public verification
link, and the printable PDF, Lao first then English, with the link as a QR code.

The certificate is the holder's own paper: it names them in full, in both scripts. The public
check of its code (service.verify) stays minimal: initials, destination, dates, status."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.predeparture import paper
from services.predeparture.completions.domain import (
    display_code,
    verification_code,
    verification_hash,
)
from shared import printing
from shared.secrets import key_bytes

if TYPE_CHECKING:  # the PDF libraries load with the first document printed
    import uuid
    from datetime import date

    from fpdf import FPDF
    from PIL import Image

    from shared.settings import Settings

VERIFY_PATH = "/v1/certificates/verify/"
# Outside production (where LABOURX_PUBLIC_BASE_URL is required) the link points at the
# development runner's predeparture API.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:8103"

# Derivation label: a dedicated key is derived from the secret, so a certificate code never
# equals anything else signed with it.
_KEY_LABEL = b"labourx/predeparture/certificate-verification-codes/v1"


def code_key(settings: Settings) -> bytes:
    """The key verification codes are derived with, from LABOURX_CERTIFICATE_KEY (required in
    production; a development key of its own elsewhere, never another purpose's). Every
    predeparture process of a deployment reads the same environment, so API and consumers
    derive the same codes."""
    return _derived(settings.purpose_key("certificate_key"))


def _derived(secret: bytes) -> bytes:
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


def printed_code(settings: Settings, completion_id: uuid.UUID, stored_hash: str) -> str:
    """The code to print on a certificate: the one its row verifies. After a change of key
    (LABOURX_CERTIFICATE_PREVIOUS_KEY set) a certificate issued before it keeps its code."""
    code = verification_code(code_key(settings), completion_id)
    previous = settings.certificate_previous_key
    if previous is not None and verification_hash(code) != stored_hash:
        older = verification_code(_derived(key_bytes(previous.get_secret_value())), completion_id)
        if verification_hash(older) == stored_hash:
            return older
    return code


def verification_link(settings: Settings, code: str) -> str:
    base = settings.public_base_url or DEVELOPMENT_BASE_URL
    return f"{base.rstrip('/')}{VERIFY_PATH}{code}"


@dataclass(frozen=True)
class CertificateContent:
    certificate_number: str
    initials: str
    # The holder's full name in Lao script and in Latin letters (empty when not known).
    name_lo: str
    name_en: str
    destination_country: str
    completed_on: date
    valid_until: date
    office_code: str | None
    curriculum_title_lo: str
    curriculum_title_en: str
    code: str
    # The public check of `code` (`verification_link`), printed and as the QR code.
    link: str


def qr_image(link: str, module_px: int = 8) -> Image.Image:
    """The link as a QR code (error correction M, 4-module quiet zone), `module_px` pixels a
    module so that it stays sharp however the viewer scales it."""
    import segno
    from PIL import Image

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


# Lao first, English second, in every line a person reads.
TITLE = ("ໃບຢັ້ງຢືນການປະຖົມນິເທດກ່ອນເດີນທາງ", "Certificate of pre-departure orientation")
CERTIFIES = ("ຂໍຢັ້ງຢືນວ່າ", "This certifies that")
COMPLETED = (
    "ໄດ້ຜ່ານການປະຖົມນິເທດກ່ອນເດີນທາງໄປເຮັດວຽກຢູ່",
    "completed the pre-departure orientation for work in",
)
LABELS = {
    "completed_on": ("ວັນທີສຳເລັດ", "Completed on"),
    "valid_until": ("ໃຊ້ໄດ້ຮອດວັນທີ", "Valid until"),
    "number": ("ເລກທີໃບຢັ້ງຢືນ", "Certificate number"),
    "issued_by": ("ອອກໃຫ້ໂດຍ", "Issued by"),
    "code": ("ລະຫັດກວດສອບ", "Verification code"),
}
CHECK_NOTE = (
    "ທຸກຄົນສາມາດກວດສອບໃບຢັ້ງຢືນນີ້ດ້ວຍລະຫັດຂ້າງເທິງ: ການກວດສອບສະແດງພຽງແຕ່ຕົວອັກສອນຫຍໍ້ຂອງຊື່,"
    " ປະເທດປາຍທາງ, ວັນທີ ແລະ ສະຖານະຂອງໃບຢັ້ງຢືນ.",
    "Anyone may check this certificate with the code above: the check shows only the initials,"
    " destination, dates and whether it is valid, withdrawn or expired.",
)
_LEFT, _WIDTH = 20.0, 257.0


def _line(pdf: FPDF, y: float, text: str, size: float, style: str = "") -> None:
    """One centred line across the page, its font shrunk until it fits."""
    paper.fit(pdf, text, size, _WIDTH - 4, style, least=6)
    paper.write(pdf, _LEFT, y, _WIDTH, size * 0.5, text, align="C")


def _fact(pdf: FPDF, y: float, label: tuple[str, str], values: list[str]) -> float:
    """A fact: its label in Lao over English, its value(s) beside; returns the next fact's y."""
    pdf.set_font(printing.FAMILY, "", 10)
    paper.write(pdf, 28, y, 60, 5, label[0])
    pdf.set_font(printing.FAMILY, "", 8.5)
    paper.write(pdf, 28, y + 5, 60, 4, label[1])
    for i, value in enumerate(values):
        paper.fit(pdf, value, 11, 112, "B", least=6)
        paper.write(pdf, 88, y + i * 5, 112, 5, value)
    return y + max(10.0, 5.0 * len(values)) + 2.5


def render_pdf(content: CertificateContent) -> bytes:
    """An A4 landscape certificate, Lao first then English: the holder's full name in both
    scripts (initials when the record no longer has names), the destination and the issuing
    office by name, the dates, its number, and the QR code and code to check it."""
    link = content.link
    country_lo, country_en = paper.country_names(content.destination_country)
    office_lo, office_en = paper.office_names(content.office_code)
    pdf = printing.document("landscape")
    pdf.set_title(f"Pre-departure orientation certificate {content.certificate_number}")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_draw_color(30, 60, 120)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, 271, 184)

    _line(pdf, 18, TITLE[0], 22, "B")
    _line(pdf, 30, TITLE[1], 16, "B")
    _line(pdf, 40, content.curriculum_title_lo, 11)
    _line(pdf, 46, content.curriculum_title_en, 10)

    _line(pdf, 56, f"{CERTIFIES[0]} · {CERTIFIES[1]}", 11)
    names = [n for n in (content.name_lo, content.name_en) if n] or [content.initials or "-"]
    y = 63.0
    for name, size in zip(names, (24.0, 19.0), strict=False):
        _line(pdf, y, name, size, "B")
        y += size * 0.5 + 3
    _line(pdf, 90, COMPLETED[0], 12)
    _line(pdf, 97, COMPLETED[1], 11)
    _line(pdf, 104, f"{country_lo} · {country_en}", 17, "B")

    y = 120.0
    y = _fact(pdf, y, LABELS["completed_on"], [paper.day(content.completed_on)])
    y = _fact(pdf, y, LABELS["valid_until"], [paper.day(content.valid_until)])
    y = _fact(pdf, y, LABELS["number"], [content.certificate_number])
    issued = [office_lo, office_en] if content.office_code else ["-"]
    y = _fact(pdf, y, LABELS["issued_by"], issued)
    _fact(pdf, y, LABELS["code"], [display_code(content.code)])

    # The QR code opens the public check; the image is also a link for a PDF read on screen.
    pdf.image(
        qr_image(link),
        x=214,
        y=116,
        w=52,
        h=52,
        link=link,
        alt_text="QR code of the verification link",
    )
    pdf.set_font(printing.FAMILY, "", 7)
    paper.write(pdf, 190, 169, 100, 4, link, align="C")
    for i, note in enumerate(CHECK_NOTE):
        paper.fit(pdf, note, 7.5, _WIDTH - 4)
        paper.write(pdf, _LEFT, 184 + i * 4.5, _WIDTH, 4.5, note, align="C")
    return bytes(pdf.output())
