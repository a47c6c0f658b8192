"""Currencies from pycountry (ISO 4217): wages and recruitment costs name theirs."""

from __future__ import annotations

import pycountry


def validate_currency(code: str) -> str:
    """An ISO 4217 alphabetic code, upper case (LAK, THB, KRW); ValueError otherwise."""
    canonical = code.strip().upper()
    if len(canonical) != 3 or pycountry.currencies.get(alpha_3=canonical) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (e.g. LAK, THB)")
    return canonical
