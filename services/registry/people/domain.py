"""Pure rules about people: who may be registered, and how they are identified."""

from __future__ import annotations

import secrets
from datetime import date

from shared.problems import InvalidField

# No 0/O or 1/I: the reference is read out over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def age_on(born: date, today: date) -> int:
    """Completed years of age on `today`."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_minimum_age(born: date, today: date, minimum: int, field: str = "date_of_birth") -> None:
    """Refuse a birth date in the future or an age below the legal minimum."""
    if born > today:
        raise InvalidField(field, "is in the future")
    if age_on(born, today) < minimum:
        raise InvalidField(field, f"the person must be at least {minimum} years old")


def new_reference() -> str:
    """A short, unambiguous code for a person (e.g. `P-7KQ2MX9A`)."""
    return "P-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
