"""Printed paper in Lao and English: one way to start a PDF for certificates, slips and rosters.

The fonts are vendored in `shared/fonts/` (Noto Sans for Latin letters, Noto Sans Lao for Lao
script, both SIL OFL). Lao stacks vowel signs and tone marks on its consonants, which only comes
out right with text shaping (HarfBuzz), so shaping is always on.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"
# The family name to pass to `set_font`: Latin text in Noto Sans, Lao falling back to Noto Sans
# Lao glyph by glyph, so one string may mix both scripts.
FAMILY = "labourx"
_LAO = "labourx-lao"


@functools.cache
def _document_class() -> type[FPDF]:
    # fpdf2 (with fontTools, Pillow, HarfBuzz) is loaded with the first document a process
    # prints, not when a service starts: most never print, and it weighs 40 MB.
    from fpdf import FPDF

    class _Document(FPDF):
        """FPDF that names its font again for every line of text.

        With text shaping, fpdf2 2.8.9 wraps a line that needs the fallback font in `q ... Q`,
        and the font it selects in there (the page's first) is forgotten at `Q`; it then
        believes the font set and names none for the next line, whose text prints as nothing
        ("No font in show"). A line that began in Lao also left the fallback as the current
        font. Naming the chosen font before each line costs a few bytes and keeps every line."""

        def _render_styled_text_line(self, *args: Any, **kwargs: Any) -> Any:
            rendered = super()._render_styled_text_line(*args, **kwargs)
            chosen = self.fonts.get(f"{self.font_family}{self.font_style}")
            if chosen is not None:
                self.current_font = chosen
            self.current_font_is_set_on_page = False
            return rendered

    return _Document


def document(orientation: Literal["portrait", "landscape"] = "portrait") -> FPDF:
    """An A4 document (millimetres) with the labourx fonts registered and Lao shaping on."""
    pdf = _document_class()(orientation=orientation, unit="mm", format="A4")
    pdf.set_author("labourx")
    for style, suffix in (("", "Regular"), ("B", "Bold")):
        pdf.add_font(FAMILY, style, FONTS / f"NotoSans-{suffix}.ttf")
        pdf.add_font(_LAO, style, FONTS / f"NotoSansLao-{suffix}.ttf")
    pdf.set_fallback_fonts([_LAO], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.set_font(FAMILY, "", 12)
    return pdf
