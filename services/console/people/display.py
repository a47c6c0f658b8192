"""How a person's facts read on their page: districts (the registry keeps them as text, which the
console's form fills with the district's Lao name), countries of destination, phone numbers."""

from __future__ import annotations

import gettext
from functools import cache

import phonenumbers
import pycountry

from shared.reference.districts import find_district

# Where Lao workers go most (the MOU with Thailand, Korea's EPS, Japan's programmes, Malaysia):
# offered first when a migration record is opened.
DESTINATIONS = ("TH", "KR", "JP", "MY", "SG", "CN", "TW")


def district_name(stored: str | None, province_code: str | None, language: str) -> str:
    """A district named in the officer's language when the stored text is a known district
    (its code, or its name in either script); the text as stored otherwise."""
    if not stored:
        return ""
    found = find_district(stored, province_code)
    return found.name(language) if found else stored


@cache
def _lao_countries() -> gettext.NullTranslations:
    # iso-codes' Lao country names, shipped with pycountry (what notify's messages and
    # predeparture's certificates say too).
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["lo"], fallback=True)


def country_name(code: str | None, language: str) -> str:
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    english = getattr(country, "common_name", None) or country.name
    return _lao_countries().gettext(english) if language == "lo" else english


def phone_as_written(e164: str | None) -> str:
    """A phone number as people in Laos write it (`020 5888 4321`); a Thai one in its
    international form; what is stored when it cannot be read."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code != 856:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = "0" + str(number.national_number)
    if len(national) == 11 and national.startswith(("020", "030")):  # mobiles: 020 5888 4321
        return f"{national[:3]} {national[3:7]} {national[7:]}"
    return f"{national[:3]} {national[3:]}"  # a fixed line: its area code, then the number
