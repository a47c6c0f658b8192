"""What predeparture's printed paper (certificates, rosters) says in words: countries, languages,
offices, sex and dates, each in Lao and in English, Lao first.

Country and language names come from iso-codes' translations shipped with pycountry, the same
source notify's messages use, so a person reads the same name on paper and in their SMS.
"""

from __future__ import annotations

import gettext
from functools import cache
from typing import TYPE_CHECKING, Any

import pycountry

from shared import printing
from shared.clock import LAO_TIME
from shared.reference.offices import office_name

if TYPE_CHECKING:  # the PDF library loads with the first document printed
    from datetime import date, datetime

    from fpdf import FPDF

# How Laos writes the word before a language's name ("the Lao language").
_LANGUAGE_LO = "ພາສາ"
SEX_NAMES: dict[str, tuple[str, str]] = {
    "female": ("ຍິງ", "F"),
    "male": ("ຊາຍ", "M"),
    "other": ("ອື່ນໆ", "X"),
}


@cache
def _translations(domain: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["lo"], fallback=True)


def country_names(code: str) -> tuple[str, str]:
    """A country's common name in Lao and in English (`ປະເທດໄທ`, `Thailand`); the code itself
    when iso-codes does not know it."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code, code
    english = getattr(country, "common_name", None) or country.name
    return _translations("iso3166-1").gettext(english), english


def language_names(code: str) -> tuple[str, str]:
    """A language's name in Lao (`ພາສາລາວ`) and in English (`Lao`)."""
    language = (
        pycountry.languages.get(alpha_2=code)
        if len(code) == 2
        else pycountry.languages.get(alpha_3=code)
    )
    if language is None:
        return code, code
    lao = _translations("iso639-3").gettext(language.name)
    if lao == language.name:  # no Lao translation: say it in English on both lines
        return language.name, language.name
    return (lao if lao.startswith(_LANGUAGE_LO) else _LANGUAGE_LO + lao), language.name


def office_names(code: str | None) -> tuple[str, str]:
    """An office's name in Lao and in English, as registry's seed list writes them."""
    return office_name(code, "lo"), office_name(code, "en")


def day(value: date) -> str:
    """A date as people in Laos write it, day first: 05/12/2026."""
    return value.strftime("%d/%m/%Y")


def lao_time(value: datetime) -> datetime:
    return value.astimezone(LAO_TIME)


def times(starts_at: datetime, ends_at: datetime) -> str:
    """When a session is held, in Lao time: `05/12/2026 08:30-16:30`, or across days
    `05/12/2026 08:30 - 06/12/2026 12:00`."""
    start, end = lao_time(starts_at), lao_time(ends_at)
    if start.date() == end.date():
        return f"{day(start.date())} {start:%H:%M}-{end:%H:%M}"
    return f"{day(start.date())} {start:%H:%M} - {day(end.date())} {end:%H:%M}"


def write(pdf: FPDF, x: float, y: float, w: float, h: float, text: str, **kwargs: Any) -> None:
    """A cell of `text` at (x, y), in the font set (shared.printing keeps the font of a line
    after one in Lao)."""
    pdf.set_xy(x, y)
    pdf.cell(w, h, text, **kwargs)


def fit(
    pdf: FPDF, text: str, size: float, width: float, style: str = "", least: float = 5.0
) -> None:
    """Select the labourx font at `size`, or smaller until `text` fits `width`."""
    while True:
        pdf.set_font(printing.FAMILY, style, size)
        if size <= least or pdf.get_string_width(text) <= width:
            return
        size -= 0.5
