"""Pure rules about people: who may be registered, how they are identified and found."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from shared.problems import FieldError
from shared.reference.disability import Answer, Domain, has_disability
from shared.reference.isco08 import ancestors
from shared.reference.names import name_tokens
from shared.reference.phones import phone_in

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# No 0/O or 1/I: the reference is read out over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
assert len(_REFERENCE_ALPHABET) == 32  # new_reference takes 5 random bits per letter
# A reference as people copy it from an SMS or a slip: any case, the dash optional.
_TYPED_REFERENCE = re.compile(f"^P-?([{_REFERENCE_ALPHABET}]{{8}})$")
# An identity document number as IdentityDocumentIn accepts it (with at least one digit, so that
# a name is never taken for one).
_DOCUMENT_NUMBER = re.compile(r"^(?=.*\d)[A-Z0-9/-]{4,40}$")

# Fields of the form copied as they are onto the person's row (registration, update, import).
SCALAR_FIELDS = (
    "given_name_lo",
    "family_name_lo",
    "given_name_en",
    "family_name_en",
    "sex",
    "date_of_birth",
    "ethnicity",
    "phone",
    "email",
    "province_code",
    "district",
    "village",
    "preferred_language",
)

# Age bands of labour statistics (ILO), used for filters and every disaggregated count.
AGE_BANDS: dict[str, tuple[int, int]] = {
    "15-24": (15, 24),
    "25-34": (25, 34),
    "35-44": (35, 44),
    "45-54": (45, 54),
    "55-64": (55, 64),
    "65+": (65, 130),
}


def age_on(born: date, today: date) -> int:
    """Completed years of age on `today`."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def age_errors(
    born: date, today: date, minimum: int, field: str = "date_of_birth"
) -> list[FieldError]:
    """A birth date in the future or an age below the legal minimum, named as `field`."""
    if born > today:
        return [FieldError(field, "is in the future")]
    if age_on(born, today) < minimum:
        return [FieldError(field, f"the person must be at least {minimum} years old")]
    return []


def parse_reference(text: str) -> str | None:
    """The reference `text` is, as stored (`P-9MLWWRAD`), however it was typed; else None."""
    found = _TYPED_REFERENCE.match(re.sub(r"\s+", "", text).upper())
    return f"P-{found.group(1)}" if found else None


@dataclass(frozen=True)
class Identifiers:
    """What a search text can be besides a name: something the person carries."""

    reference: str | None = None
    phone: str | None = None
    document_number: str | None = None

    def __bool__(self) -> bool:
        return bool(self.reference or self.phone or self.document_number)


def identifiers_in(text: str) -> Identifiers:
    """Read a search text as the person's reference, phone number or identity document number
    (a run of digits may be both a phone and a document number); empty for a name."""
    if reference := parse_reference(text):
        return Identifiers(reference=reference)
    number = text.strip().upper()
    return Identifiers(
        phone=phone_in(text),
        document_number=number if _DOCUMENT_NUMBER.match(number) else None,
    )


def new_reference() -> str:
    """A short, unambiguous code for a person (e.g. `P-7KQ2MX9A`)."""
    # 32 letters are 5 bits each: one draw of 40 random bits, not eight (each reads urandom).
    bits = secrets.randbits(40)
    return "P-" + "".join(_REFERENCE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(8))


def birth_dates_for_ages(youngest: int, oldest: int, today: date) -> tuple[date, date]:
    """The inclusive range of birth dates of people aged `youngest` to `oldest` on `today`."""
    latest = _years_before(today, youngest)
    earliest = date.fromordinal(_years_before(today, oldest + 1).toordinal() + 1)
    return earliest, latest


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def disability_flag(answers: Mapping[Domain, Answer] | None) -> bool | None:
    """The Washington Group disability identifier, or None when the questions were not asked."""
    return None if not answers else has_disability(answers)


def search_tokens(*names: str | None) -> list[str]:
    """Keys under which a person is found by name, whichever script or spelling is searched."""
    return name_tokens(*names)


def occupation_codes(codes: Iterable[str]) -> list[str]:
    """Every ISCO-08 group of these occupations and their parents, so a filter on a group
    (e.g. 7, "craft and related trades") finds people with any occupation inside it."""
    return sorted({group for code in codes for group in ancestors(code)})
