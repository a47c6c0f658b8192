"""Pure rules of the learners read model: what is kept of a person."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shared.events.registry import PersonDetails

ACTIVE = "active"
MERGED = "merged"
PROSPECTIVE = "prospective"

# Lao vowels written before the consonant they follow in speech (e, ae, o, ai, ai): a name's
# initial is its first consonant, so these are skipped.
_LAO_LEADING_VOWELS = frozenset("\u0ec0\u0ec1\u0ec2\u0ec3\u0ec4")


def _initial(name: str | None) -> str | None:
    for char in (name or "").strip():
        if char.isalpha() and char not in _LAO_LEADING_VOWELS:
            return char.upper()[0]  # "ß" upper-cases to two letters
    return None


def initials(
    given_name_en: str | None,
    family_name_en: str | None,
    given_name_lo: str | None,
    family_name_lo: str | None,
) -> str:
    """`B. S.` from the Latin given and family names, else from the Lao ones; what a public
    certificate check may show of a person."""
    latin = [_initial(given_name_en), _initial(family_name_en)]
    letters = latin if any(latin) else [_initial(given_name_lo), _initial(family_name_lo)]
    return " ".join(f"{letter}." for letter in letters if letter)


def person_fields(details: PersonDetails) -> dict[str, Any]:
    """The columns a registration or update sets: names in both scripts (for the certificate
    and the roster), never contacts, ethnicity or documents."""
    return {
        "reference": details.reference,
        "given_name_lo": details.given_name_lo,
        "family_name_lo": details.family_name_lo,
        "given_name_en": details.given_name_en,
        "family_name_en": details.family_name_en,
        "initials": initials(
            details.given_name_en,
            details.family_name_en,
            details.given_name_lo,
            details.family_name_lo,
        ),
        "sex": details.sex,
        "date_of_birth": details.date_of_birth,
        "province_code": details.province_code,
        "office_code": details.office_code,
    }


def with_office(offices: Sequence[str], office_code: str) -> list[str]:
    """The serving offices with `office_code` among them, each once, in the order they came."""
    return list(dict.fromkeys([*offices, office_code]))


def full_name(given: str | None, family: str | None) -> str:
    """A name as it is written in Laos, given name first; empty when neither is known."""
    return " ".join(part.strip() for part in (given, family) if part and part.strip())
