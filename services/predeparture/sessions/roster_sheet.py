"""The roster of a session printed to fill by hand, for a day without a connection: who holds a
place, a box for each to sign, and a box per planned module to mark them present, absent or
excused; entered afterwards with `PUT /v1/sessions/{id}/attendance`.

A4 landscape, Lao first then English in every heading, the table's heading repeated on each
page so a long class prints on as many pages as it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from services.predeparture import paper
from shared import printing

if TYPE_CHECKING:  # the PDF library loads with the first document printed
    import uuid
    from collections.abc import Sequence
    from datetime import datetime

    from fpdf import FPDF

# A4 landscape, millimetres.
PAGE_W, PAGE_H = 297.0, 210.0
MARGIN = 10.0
WIDTH = PAGE_W - 2 * MARGIN
ROW_H = 11.0  # two lines of name and room to sign
HEAD_H = 10.0
FOOTER_H = 8.0
# Fixed columns: number, reference, name (Lao over Latin), sex, signature.
FIXED = (("ລ/ດ", "No.", 9.0), ("ລະຫັດ", "Reference", 24.0), ("ຊື່ ແລະ ນາມສະກຸນ", "Full name", 72.0),
         ("ເພດ", "Sex", 14.0), ("ລາຍເຊັນ", "Signature", 38.0))  # fmt: skip
MIN_MODULE_W = 7.0


@dataclass(frozen=True)
class Module:
    code: str
    title_lo: str
    title_en: str
    # Empty: every destination (a general module).
    destinations: frozenset[str] = frozenset()

    def applies_to(self, destination: str | None) -> bool:
        """A destination's own module is for people going there (or going nobody knows where)."""
        return not self.destinations or destination is None or destination in self.destinations


@dataclass(frozen=True)
class Learner:
    reference: str | None
    name_lo: str
    name_en: str
    sex: str | None
    destination_country: str | None


@dataclass(frozen=True)
class RosterSheet:
    session_id: uuid.UUID
    office_code: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    district: str | None
    village: str | None
    language: str
    facilitator: str
    modules: Sequence[Module]
    people: Sequence[Learner] = field(default_factory=list)


def _text(pdf: FPDF, x: float, y: float, w: float, h: float, text: str, **kwargs: Any) -> None:
    paper.write(pdf, x, y, w, h, text, **kwargs)


def _fit(pdf: FPDF, text: str, width: float, size: float, style: str = "") -> float:
    paper.fit(pdf, text, size, width, style)
    return float(pdf.font_size_pt)


def _header(pdf: FPDF, sheet: RosterSheet, page: int, pages: int) -> float:
    """The session's heading, Lao first; returns where the table starts."""
    office_lo, office_en = paper.office_names(sheet.office_code)
    language_lo, language_en = paper.language_names(sheet.language)
    pdf.set_font(printing.FAMILY, "B", 14)
    _text(pdf, MARGIN, MARGIN, WIDTH - 40, 7, "ບັນຊີລາຍຊື່ຜູ້ເຂົ້າຮ່ວມການປະຖົມນິເທດກ່ອນເດີນທາງ")
    pdf.set_font(printing.FAMILY, "", 11)
    _text(pdf, MARGIN, MARGIN + 7, WIDTH - 40, 6, "Pre-departure orientation: attendance roster")
    pdf.set_font(printing.FAMILY, "", 9)
    _text(pdf, PAGE_W - MARGIN - 40, MARGIN, 40, 6, f"ໜ້າ {page}/{pages}", align="R")
    _text(pdf, PAGE_W - MARGIN - 40, MARGIN + 6, 40, 6, f"Page {page} of {pages}", align="R")
    place = sheet.venue
    if sheet.village or sheet.district:
        place += " (" + ", ".join(p for p in (sheet.village, sheet.district) if p) + ")"
    facts = [
        ("ສູນ / Office", f"{office_lo} · {office_en}"),
        ("ວັນທີ / Date", paper.times(sheet.starts_at, sheet.ends_at)),
        ("ສະຖານທີ່ / Venue", place),
        ("ພາສາ / Language", f"{language_lo} · {language_en}"),
        ("ຜູ້ສອນ / Facilitator", sheet.facilitator),
    ]
    y = MARGIN + 15
    for label, value in facts:
        pdf.set_font(printing.FAMILY, "", 8.5)
        _text(pdf, MARGIN, y, 36, 5, label)
        _fit(pdf, value, WIDTH - 36, 8.5, "B")
        _text(pdf, MARGIN + 36, y, WIDTH - 36, 5, value)
        y += 5
    return y + 2


def _columns(pdf: FPDF, modules: Sequence[Module]) -> list[float]:
    fixed = [w for _, _, w in FIXED]
    left = WIDTH - sum(fixed)
    module_w = left / len(modules) if modules else 0.0
    if modules and module_w < MIN_MODULE_W:
        # Many modules: the name column gives up room before the module boxes get too small.
        module_w = MIN_MODULE_W
        fixed[2] = max(40.0, WIDTH - sum(fixed) + fixed[2] - module_w * len(modules))
    return fixed + [module_w] * len(modules)


def _table_head(pdf: FPDF, y: float, widths: list[float], modules: Sequence[Module]) -> float:
    pdf.set_fill_color(230, 236, 245)
    x = MARGIN
    labels = [(lo, en) for lo, en, _ in FIXED] + [(m.code, "") for m in modules]
    for (lo, en), w in zip(labels, widths, strict=True):
        pdf.rect(x, y, w, HEAD_H, style="DF")
        _fit(pdf, lo, w - 1, 8, "B")
        _text(pdf, x, y + 0.8, w, 4.4, lo, align="C")
        if en:
            _fit(pdf, en, w - 1, 7.5)
            _text(pdf, x, y + 5.0, w, 4.4, en, align="C")
        x += w
    return y + HEAD_H


def _row(
    pdf: FPDF,
    y: float,
    number: int,
    person: Learner,
    widths: list[float],
    modules: Sequence[Module],
) -> None:
    x = MARGIN
    cells = widths[: len(FIXED)]
    for w in cells:
        pdf.rect(x, y, w, ROW_H)
        x += w
    x = MARGIN
    pdf.set_font(printing.FAMILY, "", 8.5)
    _text(pdf, x, y, cells[0], ROW_H, str(number), align="C")
    x += cells[0]
    _text(pdf, x + 1, y, cells[1] - 1, ROW_H, person.reference or "-")
    x += cells[1]
    name_w = cells[2] - 2
    _fit(pdf, person.name_lo or "-", name_w, 9, "B")
    _text(pdf, x + 1, y + 0.8, name_w, 4.8, person.name_lo or "-")
    _fit(pdf, person.name_en or "-", name_w, 8.5)
    _text(pdf, x + 1, y + 5.6, name_w, 4.6, person.name_en or "-")
    x += cells[2]
    sex_lo, sex_en = paper.SEX_NAMES.get(person.sex or "", ("-", "-"))
    pdf.set_font(printing.FAMILY, "", 8.5)
    _text(pdf, x, y, cells[3], ROW_H, f"{sex_lo} / {sex_en}", align="C")
    x += cells[3] + cells[4]
    # A box per module; one that is not for the person's destination is shaded out.
    pdf.set_fill_color(200, 200, 200)
    for module, w in zip(modules, widths[len(FIXED) :], strict=True):
        if module.applies_to(person.destination_country):
            pdf.rect(x, y, w, ROW_H)
        else:
            pdf.rect(x, y, w, ROW_H, style="DF")
            _text(pdf, x, y, w, ROW_H, "—", align="C")
        x += w


LEGEND_LINE_H = 4.0
# How to mark a box, Lao then English.
MARKS = (
    "ໝາຍແຕ່ລະວິຊາ: P = ມາ, A = ຂາດ, E = ລາ (ຂາດມີເຫດຜົນ). ຫ້ອງສີເທົາ: ບໍ່ແມ່ນວິຊາສຳລັບປະເທດປາຍທາງຂອງຜູ້ນັ້ນ.",
    "Mark each module: P = present, A = absent, E = excused. Grey: not a module for the"
    " person's destination.",
)


def _legend_height(modules: Sequence[Module]) -> float:
    return (2 + len(modules)) * LEGEND_LINE_H + 2


def _legend(pdf: FPDF, y: float, modules: Sequence[Module]) -> None:
    """How to mark the boxes, and each module's title in Lao and in English."""
    pdf.set_font(printing.FAMILY, "", 7.5)
    for line in MARKS:
        _text(pdf, MARGIN, y, WIDTH, LEGEND_LINE_H, line)
        y += LEGEND_LINE_H
    half = WIDTH / 2
    for module in modules:
        pdf.set_font(printing.FAMILY, "B", 7.5)
        _text(pdf, MARGIN, y, 18, LEGEND_LINE_H, module.code)
        _fit(pdf, module.title_lo, half - 20, 7.5)
        _text(pdf, MARGIN + 18, y, half - 20, LEGEND_LINE_H, module.title_lo)
        _fit(pdf, module.title_en, half, 7.5)
        _text(pdf, MARGIN + half, y, half, LEGEND_LINE_H, module.title_en)
        y += LEGEND_LINE_H


def _footer(pdf: FPDF, sheet: RosterSheet) -> None:
    pdf.set_font(printing.FAMILY, "", 7)
    _text(
        pdf,
        MARGIN,
        PAGE_H - MARGIN - 4,
        WIDTH,
        4,
        f"labourx · {sheet.session_id} · ປ້ອນຂໍ້ມູນເຂົ້າລະບົບພາຍຫຼັງ / enter into labourx afterwards",
    )


def _pages(sheet: RosterSheet, first_rows: int, rows: int) -> int:
    left = max(len(sheet.people) - first_rows, 0)
    return 1 + -(-left // rows) if left else 1


def render_pdf(sheet: RosterSheet) -> bytes:
    """The roster as an A4 landscape PDF, as many pages as the class needs."""
    pdf = printing.document("landscape")
    pdf.set_title(f"Attendance roster {sheet.session_id}")
    pdf.set_auto_page_break(auto=False)
    widths = _columns(pdf, sheet.modules)
    bottom = PAGE_H - MARGIN - FOOTER_H
    # The heading is the same height on every page, so rows per page are known ahead.
    probe = printing.document("landscape")
    probe.add_page()
    table_top = _header(probe, sheet, 1, 1) + HEAD_H
    per_page = max(int((bottom - table_top) // ROW_H), 1)
    pages = _pages(sheet, per_page, per_page)
    last_rows = len(sheet.people) - (pages - 1) * per_page
    legend_page = table_top + last_rows * ROW_H + _legend_height(sheet.modules) > bottom
    total = pages + (1 if legend_page else 0)

    people = list(sheet.people)
    y = table_top
    for page in range(1, pages + 1):
        pdf.add_page()
        y = _table_head(pdf, _header(pdf, sheet, page, total), widths, sheet.modules)
        start = (page - 1) * per_page
        for number, person in enumerate(people[start : start + per_page], start=start + 1):
            _row(pdf, y, number, person, widths, sheet.modules)
            y += ROW_H
        _footer(pdf, sheet)
    if legend_page:
        pdf.add_page()
        y = _header(pdf, sheet, total, total)
        _footer(pdf, sheet)
    _legend(pdf, y + 2, sheet.modules)
    return bytes(pdf.output())
