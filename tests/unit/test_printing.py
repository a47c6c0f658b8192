"""Printed paper keeps every line: Lao and Latin mixed, lines that begin or end in Lao, bold."""

from __future__ import annotations

import re

from shared.printing import FAMILY, document

LINES = [
    ("", "ສົມສັກ ພົມມະຈັນ"),
    ("", "ແຂວງສະຫວັນນະເຂດ"),
    ("", "Latin after two lines in Lao"),
    ("B", "Bold ສະບາຍດີ"),
    ("", "ສະບາຍດີ after bold"),
    ("", "a last line in Latin"),
]


def _shows_without_a_font(content: str) -> int:
    """Text shown while no font is selected, following q/Q (graphics state) as a reader does."""
    stack: list[str | None] = []
    font: str | None = None
    orphans = 0
    # Glyph strings are binary: empty them first, so their bytes never read as operators.
    content = re.sub(r"\((?:\\.|[^\\)])*\)", "()", content, flags=re.S)
    for token in re.finditer(r"/F\d+ [\d.]+ Tf|\bq\b|\bQ\b|\)\s*Tj|\]\s*TJ", content):
        text = token.group()
        if text.endswith("Tf"):
            font = text.split()[0]
        elif text == "q":
            stack.append(font)
        elif text == "Q":
            font = stack.pop()
        elif font is None:
            orphans += 1
    return orphans


def test_every_line_is_printed_with_a_font_whatever_script_it_begins_with() -> None:
    pdf = document()
    pdf.compress = False
    pdf.add_page()
    for style, line in LINES:
        pdf.set_font(FAMILY, style, 14)
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 8, "ສູນບໍລິການຈັດຫາງານ\nsecond line ສະບາຍດີ\nthird", new_x="LMARGIN")
    document_bytes = bytes(pdf.output()).decode("latin-1")
    # The page's content stream: the one that draws text (fonts are streams too).
    pages = [
        stream
        for stream in re.findall(r"stream\r?\n(.*?)endstream", document_bytes, re.S)
        if "BT" in stream and " Tf" in stream
    ]
    assert len(pages) == 1
    assert pages[0].count(" Tj") >= len(LINES)
    assert _shows_without_a_font(pages[0]) == 0
