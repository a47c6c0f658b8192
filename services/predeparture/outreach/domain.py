"""Pure rules of outreach in communities: the fixed topics and age bands, where an office is,
and what a set of anonymous counts must look like.

Outreach is counted, never named: a facilitator in a village writes down how many women and
men of each age band came, so the record holds no person, id or name by design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from shared.problems import InvalidField
from shared.reference.offices import SEED_MRCS

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


def office_province(office_code: str) -> str:
    """The province of a Migrant Resource Centre (or the skills institute); 422 otherwise."""
    office = SEED_MRCS.get(office_code)
    if office is None:
        raise InvalidField(
            "office_code",
            f"{office_code!r} is not a Migrant Resource Centre ({', '.join(SEED_MRCS)})",
        )
    return office.province_code


def check_held_on(held_on: date, today: date) -> None:
    """Outreach is recorded after it happened, never ahead."""
    if held_on > today:
        raise InvalidField("held_on", f"is in the future (today is {today.isoformat()})")


@dataclass(frozen=True)
class Count:
    sex: str
    age_band: str
    people: int


def check_counts(counts: Sequence[Count]) -> None:
    """One row per sex and age band (a repeat is refused naming the row), and someone came."""
    seen: dict[tuple[str, str], int] = {}
    for index, count in enumerate(counts):
        first = seen.setdefault((count.sex, count.age_band), index)
        if first != index:
            raise InvalidField(
                f"counts.{index}",
                f"repeats {count.sex} {count.age_band} of counts.{first}: send one row each",
            )
    if not any(count.people for count in counts):
        raise InvalidField("counts", "nobody was counted: record outreach that reached people")


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
