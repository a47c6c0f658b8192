"""Printed paper in Lao and English: one way to start a PDF for certificates, slips and rosters.

The fonts are vendored in `shared/fonts/` (Noto Sans for Latin letters, Noto Sans Lao for Lao
script, both SIL OFL). Lao stacks vowel signs and tone marks on its consonants, which only comes
out right with text shaping (HarfBuzz), so shaping is always on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"
# The family name to pass to `set_font`: Latin text in Noto Sans, Lao falling back to Noto Sans
# Lao glyph by glyph, so one string may mix both scripts.
FAMILY = "labourx"
_LAO = "labourx-lao"


def document(orientation: Literal["portrait", "landscape"] = "portrait") -> FPDF:
    """An A4 document (millimetres) with the labourx fonts registered and Lao shaping on."""
    pdf = FPDF(orientation=orientation, unit="mm", format="A4")
    pdf.set_author("labourx")
    for style, suffix in (("", "Regular"), ("B", "Bold")):
        pdf.add_font(FAMILY, style, FONTS / f"NotoSans-{suffix}.ttf")
        pdf.add_font(_LAO, style, FONTS / f"NotoSansLao-{suffix}.ttf")
    pdf.set_fallback_fonts([_LAO], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.set_font(FAMILY, "", 12)
    return pdf
