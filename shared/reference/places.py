"""Places from pycountry: Lao provinces (ISO 3166-2:LA) and countries (ISO 3166-1)."""

from __future__ import annotations

from functools import lru_cache

import pycountry


@lru_cache
def lao_provinces() -> dict[str, str]:
    """ISO 3166-2:LA code → English name, e.g. `LA-VT` → `Vientiane Prefecture`."""
    return {s.code: s.name for s in pycountry.subdivisions.get(country_code="LA") or []}


def validate_province(code: str) -> str:
    """The canonical upper-case code; ValueError when it is not a Lao province."""
    canonical = code.strip().upper()
    if canonical not in lao_provinces():
        raise ValueError(f"{code!r} is not an ISO 3166-2:LA province code (e.g. LA-VT)")
    return canonical


def validate_country(code: str) -> str:
    """An ISO 3166-1 alpha-2 country code, upper case; ValueError when there is no such country."""
    canonical = code.strip().upper()
    if len(canonical) != 2 or pycountry.countries.get(alpha_2=canonical) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. TH)")
    return canonical
