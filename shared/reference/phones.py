"""Phone numbers normalised to E.164 with phonenumbers; Lao (+856) numbers by default."""

from __future__ import annotations

import re

import phonenumbers

ACCEPTED_REGIONS = frozenset({"LA", "TH"})


def normalise_phone(raw: str, default_region: str = "LA") -> str:
    """E.164 form of a Lao or Thai number; ValueError with a reason otherwise."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    region = phonenumbers.region_code_for_number(number)
    if region not in ACCEPTED_REGIONS:
        raise ValueError(f"numbers from {region} are not accepted (Lao or Thai numbers only)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# What a typed phone number is made of: digits and the separators people put between them.
_TYPED_PHONE = re.compile(r"^\+?[\d\s().-]+$")
_MIN_DIGITS = 8  # shorter runs of digits are not a Lao or Thai number in any form


def phone_in(text: str, default_region: str = "LA") -> str | None:
    """The E.164 number `text` is, typed in any usual way (`020 5555 7001`, `2055557001`,
    `+8562055557001`, `8562055557001`, `+66 81 234 5678`); None when it is not one."""
    text = text.strip()
    if not _TYPED_PHONE.match(text) or sum(c.isdigit() for c in text) < _MIN_DIGITS:
        return None
    try:
        return normalise_phone(text, default_region)
    except ValueError:
        return None
