"""The registration slip a person takes home: their reference, who registered them, and what
happens next, Lao first and English second. Pure: data in, PDF bytes out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared import printing

if TYPE_CHECKING:  # the PDF library loads with the first document printed
    from datetime import date

    from fpdf import FPDF

# What a slip shows of the record, named in the audit entry of its printing.
PRINTED = ("reference", "given_name_lo", "family_name_lo", "given_name_en", "family_name_en")
TITLE = ("ໃບລົງທະບຽນ", "Registration slip")
LABELS = {
    "reference": ("ເລກອ້າງອີງຂອງທ່ານ", "Your reference"),
    "name": ("ຊື່ ແລະ ນາມສະກຸນ", "Name"),
    "office": ("ລົງທະບຽນຢູ່", "Registered at"),
    "date": ("ວັນທີລົງທະບຽນ", "Registered on"),
    "next": ("ຂັ້ນຕອນຕໍ່ໄປ", "What happens next"),
}
KEEP = (
    "ເກັບໃບນີ້ໄວ້. ບອກເລກອ້າງອີງນີ້ທຸກຄັ້ງທີ່ທ່ານໂທ ຫຼື ມາຫ້ອງການ.",
    "Keep this slip. Give this reference whenever you call or come to the office.",
)
JOBSEEKER = (
    (
        "ກັບມາຫ້ອງການພ້ອມໃບນີ້ ແລະ ບັດປະຈຳຕົວ ຫຼື ສຳມະໂນຄົວ ເພື່ອເບິ່ງວຽກທີ່ເປີດຮັບ.",
        "Come back with this slip and your ID card or family book to see the jobs on offer.",
    ),
    (
        "ຖ້າເບີໂທລະສັບ ຫຼື ທີ່ຢູ່ຂອງທ່ານປ່ຽນ, ກະລຸນາແຈ້ງຫ້ອງການ.",
        "If your phone number or address changes, tell the office.",
    ),
)
JOBSEEKER_SMS = (
    "ທ່ານຈະໄດ້ຮັບ SMS ເມື່ອມີວຽກທີ່ເໝາະສົມກັບທ່ານ.",
    "You will receive an SMS when there is a job that suits you.",
)
MIGRANT = (
    (
        "ກ່ອນໄປເຮັດວຽກຢູ່ຕ່າງປະເທດ, ໃຫ້ເຂົ້າຮ່ວມການປະຖົມນິເທດກ່ອນເດີນທາງ ຢູ່ສູນບໍລິການຂໍ້ມູນແຮງງານເຄື່ອນຍ້າຍ (ບໍ່ເສຍຄ່າ).",
        "Before you go to work abroad, attend the pre-departure orientation at the Migrant "
        "Resource Centre (free of charge).",
    ),
    (
        "ໄປເຮັດວຽກຕ່າງປະເທດຜ່ານບໍລິສັດຈັດຫາງານທີ່ໄດ້ຮັບອະນຸຍາດເທົ່ານັ້ນ. ຖາມຫ້ອງການເພື່ອກວດໃບອະນຸຍາດຂອງບໍລິສັດ.",
        "Go abroad for work only through a licensed recruitment agency. Ask the office to check "
        "an agency's licence.",
    ),
    (
        "ນຳໃບນີ້ ແລະ ບັດປະຈຳຕົວ ຫຼື ໜັງສືຜ່ານແດນ ມານຳທຸກຄັ້ງ.",
        "Bring this slip and your ID card or passport each time.",
    ),
)
MIGRANT_SMS = (
    "ທ່ານຈະໄດ້ຮັບ SMS ບອກວັນ ແລະ ສະຖານທີ່ຂອງການປະຖົມນິເທດ.",
    "You will receive an SMS with the date and place of the orientation.",
)


@dataclass(frozen=True)
class Slip:
    reference: str
    name_lo: str | None
    name_en: str | None
    office_name_lo: str
    office_name_en: str
    registered_on: date
    jobseeker: bool  # a jobseeker profile; otherwise a person come for migration services
    sms: bool  # a phone and consent to SMS: the slip promises an SMS only then


def next_steps(slip: Slip) -> list[tuple[str, str]]:
    """What the person is told to expect, Lao and English, in the order printed."""
    steps = list(JOBSEEKER if slip.jobseeker else MIGRANT)
    if slip.sms:
        steps.insert(0, JOBSEEKER_SMS if slip.jobseeker else MIGRANT_SMS)
    return [KEEP, *steps]


def _qr(pdf: FPDF, text: str, x: float, y: float, size: float) -> None:
    """The reference as a QR code drawn module by module: vector, sharp at any print size."""
    import segno

    matrix = segno.make_qr(text, error="m").matrix
    module = size / (len(matrix) + 8)  # a quiet zone of 4 modules each side
    for row, cells in enumerate(matrix):
        for column, dark in enumerate(cells):
            if dark:
                pdf.rect(x + (column + 4) * module, y + (row + 4) * module, module, module, "F")


def _font(pdf: FPDF, style: str, size: float) -> None:
    """Select the font for the next line, for sure: fpdf2 (2.8) does not select again a font it
    believes current, but a line that ended in Lao left the Lao fallback font selected, and a
    Latin line after it printed nothing. Switching style first makes it select."""
    pdf.set_font(printing.FAMILY, "" if style else "B", size)
    pdf.set_font(printing.FAMILY, style, size)


def _pair(pdf: FPDF, lao: str, english: str, size: float = 11, bold: bool = False) -> None:
    width = pdf.w - pdf.l_margin - pdf.r_margin
    _font(pdf, "B" if bold else "", size)
    # Left-aligned: Lao is written without spaces between words, so justifying a line stretches
    # the few spaces it has into gaps.
    pdf.multi_cell(width, size * 0.55, lao, align="L", new_x="LMARGIN", new_y="NEXT")
    _font(pdf, "", size - 2)
    pdf.set_text_color(70)
    pdf.multi_cell(width, size * 0.5, english, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)


def _field(pdf: FPDF, label: tuple[str, str], values: tuple[str, ...]) -> None:
    """A labelled value (written in both scripts when it has both), the label small above."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    _font(pdf, "", 10)
    pdf.set_text_color(70)
    pdf.multi_cell(width, 6, f"{label[0]} / {label[1]}", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    for value in dict.fromkeys(v for v in values if v):
        _font(pdf, "B", 14)
        pdf.multi_cell(width, 8, value, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def render(slip: Slip) -> bytes:
    """The slip as a one-page A4 PDF."""
    pdf = printing.document("portrait")
    pdf.set_title(f"{TITLE[1]} {slip.reference}")
    pdf.set_margins(20, 15, 20)
    pdf.add_page()
    _pair(pdf, slip.office_name_lo, slip.office_name_en, size=12, bold=True)
    pdf.ln(4)
    _pair(pdf, *TITLE, size=20, bold=True)
    pdf.ln(6)

    top = pdf.get_y()
    _pair(pdf, *LABELS["reference"], size=11)
    _font(pdf, "B", 34)
    pdf.cell(0, 16, slip.reference, new_x="LMARGIN", new_y="NEXT")
    _qr(pdf, slip.reference, pdf.w - pdf.r_margin - 34, top - 2, 34)
    pdf.ln(4)

    _field(pdf, LABELS["name"], (slip.name_lo or "", slip.name_en or ""))
    _field(pdf, LABELS["office"], (slip.office_name_lo, slip.office_name_en))
    _field(pdf, LABELS["date"], (slip.registered_on.strftime("%d/%m/%Y"),))
    pdf.ln(2)
    pdf.set_draw_color(150)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(4)
    _pair(pdf, *LABELS["next"], size=14, bold=True)
    pdf.ln(2)
    for lao, english in next_steps(slip):
        _pair(pdf, f"•  {lao}", f"    {english}", size=12)
        pdf.ln(2)
    return bytes(pdf.output())
