"""Languages from pycountry (ISO 639-1 and ISO 639-3) and how well a person speaks them."""

from __future__ import annotations

import enum

import pycountry


class Proficiency(enum.StrEnum):
    BASIC = "basic"
    CONVERSATIONAL = "conversational"
    FLUENT = "fluent"
    NATIVE = "native"


def validate_language(code: str) -> str:
    """The ISO 639-1 code when the language has one (`lao` → `lo`), else its ISO 639-3 code."""
    canonical = code.strip().lower()
    language = None
    if len(canonical) == 2:
        language = pycountry.languages.get(alpha_2=canonical)
    elif len(canonical) == 3:
        language = pycountry.languages.get(alpha_3=canonical)
    if language is None:
        raise ValueError(
            f"{code!r} is not an ISO 639-1 or ISO 639-3 language code (e.g. lo, th, en, kjg)"
        )
    # Most of the minority languages of Laos (Khmu kjg, Hmong hmn) have no two-letter code.
    return str(getattr(language, "alpha_2", None) or language.alpha_3)
