"""Probable duplicates: when two records are likely the same person, and how sure we are.

Names are compared across Lao script and Latin spellings (see shared.reference.names). A name
match alone is not enough: Lao given names repeat a lot, so a probable duplicate also shares
the date of birth or the phone. Same birth date and phone with a weaker name match also counts:
it is usually the same person with a name spelt very differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.reference.names import PROBABLE_DUPLICATE, PersonName, name_similarity

if TYPE_CHECKING:
    from datetime import date

NAME_WITH_DATE_AND_PHONE = 0.6
# Weights only rank candidates for the officer; the rules above decide.
NAME_WEIGHT, BIRTH_WEIGHT, PHONE_WEIGHT = 0.7, 0.2, 0.1


@dataclass(frozen=True)
class Applicant:
    name: PersonName
    date_of_birth: date | None
    phone: str | None


@dataclass(frozen=True)
class Match:
    name_similarity: float
    same_date_of_birth: bool
    same_phone: bool

    @property
    def probable(self) -> bool:
        if self.name_similarity >= PROBABLE_DUPLICATE:
            return self.same_date_of_birth or self.same_phone
        return (
            self.same_date_of_birth
            and self.same_phone
            and self.name_similarity >= NAME_WITH_DATE_AND_PHONE
        )

    @property
    def score(self) -> float:
        return round(
            NAME_WEIGHT * self.name_similarity
            + BIRTH_WEIGHT * self.same_date_of_birth
            + PHONE_WEIGHT * self.same_phone,
            3,
        )


def compare(new: Applicant, existing: Applicant) -> Match:
    return Match(
        name_similarity=round(name_similarity(new.name, existing.name), 3),
        same_date_of_birth=new.date_of_birth is not None
        and new.date_of_birth == existing.date_of_birth,
        same_phone=new.phone is not None and new.phone == existing.phone,
    )
