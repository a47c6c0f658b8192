"""Phone numbers normalised to E.164 with phonenumbers; Lao (+856) numbers by default."""

from __future__ import annotations

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
