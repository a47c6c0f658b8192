"""Pure rules of outreach in communities: the fixed topics and age bands, where an office is,
and what a set of anonymous counts must look like.

Outreach is counted, never named: a facilitator in a village writes down how many women and
men of each age band came, so the record holds no person, id or name by design.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from services.predeparture.sessions.domain import late_entry_error
from shared.problems import FieldError, InvalidFields
from shared.reference.offices import SEED_MRCS

if TYPE_CHECKING:
    from collections.abc import Sequence

SEXES = ("female", "male", "other")

# The ILO bands of registry (15-24, 25-34, ...) with two changes that matter for migration
# outreach: 15-24 is split at 18, the youngest age at which a person may migrate through the MOU
# channel, so the counts show how many under-age people a village session reached; and the
# bands above 55 are merged, since few older people come. Children under 15 are counted in one
# band when a session reaches them (school visits): they are there and their families decide.
# 15-17 and 18-24 add up to registry's 15-24, so the figures can be compared.
AGE_BANDS = ("under_15", "15-17", "18-24", "25-34", "35-44", "45-54", "55+")

# Community outreach is awareness-raising, not the orientation course: its topics are a small
# fixed list rather than module codes of a curriculum, so that what a session covered keeps its
# meaning when a curriculum gets a new version, and so a village session can cover what no
# module does (the Migrant Resource Centre's own services, return and reintegration).
OUTREACH_TOPICS: dict[str, str] = {
    "safe_migration": "Safe migration and the regular channels (MOU)",
    "trafficking": "Trafficking, forced labour and how recruiters deceive",
    "rights_contract": "Workers' rights and the employment contract",
    "recruitment_fees": "Recruitment fees and the Employer Pays Principle",
    "documents": "Passports, work permits and other documents",
    "money_remittances": "Money, remittances and debt",
    "social_security": "Social security",
    "health": "Health, including HIV and sexual health",
    "gender_equality": "Gender equality, sexual harassment and violence",
    "help_lines": "Complaint mechanisms and help lines",
    "mrc_services": "What the Migrant Resource Centre offers",
    "return": "Return and reintegration",
}

MAX_PEOPLE_PER_ROW = 10_000  # more than a village holds: a typing slip, not a crowd


def validate_topic(code: str) -> str:
    """A topic code of the outreach list; ValueError naming the choices otherwise."""
    canonical = code.strip().lower()
    if canonical not in OUTREACH_TOPICS:
        raise ValueError(f"{code!r} is not an outreach topic ({', '.join(OUTREACH_TOPICS)})")
    return canonical


def office_errors(office_code: str | None) -> list[FieldError]:
    """Outreach is recorded for a Migrant Resource Centre (or the skills institute)."""
    if office_code is None:
        return [FieldError("office_code", "is required: your token names no office")]
    if office_code not in SEED_MRCS:
        message = f"{office_code!r} is not a Migrant Resource Centre ({', '.join(SEED_MRCS)})"
        return [FieldError("office_code", message)]
    return []


def office_province(office_code: str) -> str:
    """The province of a Migrant Resource Centre (or the skills institute); 422 otherwise."""
    if errors := office_errors(office_code):
        raise InvalidFields(errors)
    return SEED_MRCS[office_code].province_code


def held_on_errors(held_on: date, today: date, *, late_entry_days: int) -> list[FieldError]:
    """Outreach is recorded after it happened, never ahead, and from paper at most
    `late_entry_days` later."""
    if held_on > today:
        return [FieldError("held_on", f"is in the future (today is {today.isoformat()})")]
    if held_on < today - timedelta(days=late_entry_days):
        return [late_entry_error("held_on", late_entry_days)]
    return []


def entered_late(held_on: date, today: date) -> bool:
    """Recorded on a later day than it was held: entered from paper."""
    return held_on < today


@dataclass(frozen=True)
class Count:
    sex: str
    age_band: str
    people: int


def count_errors(counts: Sequence[Count]) -> list[FieldError]:
    """One row per sex and age band (every repeat named by its row), and someone came."""
    errors: list[FieldError] = []
    seen: dict[tuple[str, str], int] = {}
    for index, count in enumerate(counts):
        first = seen.setdefault((count.sex, count.age_band), index)
        if first != index:
            errors.append(
                FieldError(
                    f"counts.{index}",
                    f"repeats {count.sex} {count.age_band} of counts.{first}: send one row each",
                    "duplicate",
                )
            )
    if not any(count.people for count in counts):
        message = "nobody was counted: record outreach that reached people"
        errors.append(FieldError("counts", message))
    return errors


def ordered(counts: Sequence[Count]) -> list[Count]:
    """Rows in the order of the form: by sex, then youngest band first."""
    return sorted(counts, key=lambda c: (SEXES.index(c.sex), AGE_BANDS.index(c.age_band)))


@dataclass(frozen=True)
class Totals:
    people: int
    by_sex: dict[str, int]
    by_age_band: dict[str, int]


def totals(counts: Sequence[Count]) -> Totals:
    """Everyone counted, by sex and by age band; every sex and band listed, zeros included."""
    by_sex = dict.fromkeys(SEXES, 0)
    by_age_band = dict.fromkeys(AGE_BANDS, 0)
    for count in counts:
        by_sex[count.sex] += count.people
        by_age_band[count.age_band] += count.people
    return Totals(sum(by_sex.values()), by_sex, by_age_band)
