"""How a match is scored, and in which order the search looks, as plain rules.

A score is a weighted sum of criteria, each worth 0 to 1: how close the person's occupations
are to the job along the ISCO-08 hierarchy, how many required skills they have, whether the work
is where they live or would go, education, experience in the job's minor group, languages, and
for overseas jobs whether orientation and passport are in order. Sex, ethnicity, religion and
disability are not criteria and are not even stored where ranking reads.

The database computes the criterion values (ranking/sql.py) so that only the best rows leave it;
this module owns the numbers those queries use and the order in which groups of rows are
searched, so that the top of the list is exact without scoring every candidate.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.matching.candidates.domain import exclusion_reasons
from services.matching.ranking import keys


class Criterion(enum.StrEnum):
    OCCUPATION = "occupation"
    SKILLS = "skills"
    LOCATION = "location"
    EDUCATION = "education"
    EXPERIENCE = "experience"
    LANGUAGES = "languages"
    READINESS = "readiness"  # overseas only: orientation completed, passport valid


Weights = Mapping[Criterion, float]

DOMESTIC_WEIGHTS: Weights = {
    Criterion.OCCUPATION: 0.35,
    Criterion.SKILLS: 0.20,
    Criterion.LOCATION: 0.15,
    Criterion.EDUCATION: 0.10,
    Criterion.EXPERIENCE: 0.10,
    Criterion.LANGUAGES: 0.10,
}
OVERSEAS_WEIGHTS: Weights = {
    Criterion.OCCUPATION: 0.30,
    Criterion.SKILLS: 0.15,
    Criterion.LOCATION: 0.10,
    Criterion.EDUCATION: 0.05,
    Criterion.EXPERIENCE: 0.10,
    Criterion.LANGUAGES: 0.10,
    Criterion.READINESS: 0.20,
}


def weights_for(overseas: bool) -> Weights:
    return OVERSEAS_WEIGHTS if overseas else DOMESTIC_WEIGHTS


# Occupation closeness by the deepest ISCO-08 level two codes share. Experience in the very unit
# group beats only wishing for it; sharing the minor group (711 Building frame workers) still
# means transferable skills, sharing only the major group (7 Craft workers) little.
EXPERIENCED_UNIT = 1.0
DESIRED_UNIT = 0.9
SHARED_LEVEL = {4: DESIRED_UNIT, 3: 0.6, 2: 0.35, 1: 0.15, 0: 0.0}
EXPERIENCE_GROUP_DIGITS = 3  # experience counts in the job's minor group

# Location: domestic by province, overseas by destination country.
LIVES_THERE, WOULD_MOVE_THERE, ELSEWHERE = 1.0, 0.8, 0.2
NAMED_COUNTRY, ANY_COUNTRY, OTHER_COUNTRY = 1.0, 0.8, 0.4

EDUCATION_ONE_LEVEL_BELOW = 0.5
ORIENTATION_SHARE = 0.5  # of readiness; the passport is the other half
PASSPORT_MONTHS_AFTER_START = 6  # destinations ask for six months of validity on arrival
PASSPORT_DAYS_AFTER_START = round(30.44 * PASSPORT_MONTHS_AFTER_START)  # in days: 183


def passport_needed_until(starts_on: date | None, today: date) -> date:
    """The day until which a passport must be valid for a job abroad: six months past its start
    (today when the start is unknown or passed). Ranking scores readiness by it and an overseas
    placement requires it."""
    return max(starts_on or today, today) + timedelta(days=PASSPORT_DAYS_AFTER_START)


def occupation_value(best_shared_level: int, experienced: bool) -> float:
    """Closeness for the deepest level shared (0 when none); experience in the unit scores 1."""
    if best_shared_level == 4 and experienced:
        return EXPERIENCED_UNIT
    return SHARED_LEVEL[best_shared_level]


def total(values: Mapping[Criterion, float], weights: Weights) -> float:
    """The score out of 100, from criterion values between 0 and 1."""
    return round(100 * sum(weights[c] * values[c] for c in weights), 2)


@dataclass(frozen=True)
class Cell:
    """A group of rows the search can fetch with one index lookup: those sharing at least ISCO-08
    `level` with the job, (when `nearby`) living or willing to work where the job is, (when
    `oriented`) holding an orientation for the job's destination, and (when `speaking`) speaking
    every language the job asks for. `bound` is the best score any row outside the better cells
    can reach."""

    level: int
    nearby: bool
    bound: float
    oriented: bool = False
    speaking: bool = False


def search_plan(
    *,
    domestic: bool = True,
    overseas: bool = False,
    readiness: bool = False,
    languages: Sequence[str] = (),
) -> list[Cell]:
    """Cells from the most promising down; the last (level 0, anywhere) is every row.

    The search stops once it holds enough rows scoring at least the next cell's bound: no row
    further down could overtake them, so the result equals a full scan's. When both kinds of
    job are searched, a bound is the higher of the two weightings'.

    Candidates for one job can be split further where few people qualify and those who don't
    lose points for sure, so that the few are searched first: `readiness` (an overseas job)
    splits by orientation for the destination; `languages` (the job's, when all are foreign)
    by speaking all of them.
    """
    kinds = [k for k, wanted in ((False, domestic), (True, overseas)) if wanted]
    weights = weights_for(kinds[0])
    orientation_split = readiness and kinds == [True]
    language_split = len(kinds) == 1 and bool(languages) and keys.LOCAL_LANGUAGE not in languages
    unoriented_loss = 100 * weights.get(Criterion.READINESS, 0.0) * ORIENTATION_SHARE
    unspoken_loss = 100 * weights[Criterion.LANGUAGES] / max(len(languages), 1)
    cells = []
    for level in (4, 3, 2, 1, 0):
        occupation = EXPERIENCED_UNIT if level == 4 else SHARED_LEVEL[level]
        for nearby in (True, False):
            bound = max(_bound(kind, occupation, nearby) for kind in kinds)
            for oriented in (True, False) if orientation_split else (False,):
                for speaking in (True, False) if language_split else (False,):
                    loss = (unoriented_loss if orientation_split and not oriented else 0.0) + (
                        unspoken_loss if language_split and not speaking else 0.0
                    )
                    cells.append(Cell(level, nearby, round(bound - loss, 2), oriented, speaking))
    return sorted(
        cells,
        key=lambda c: (-c.bound, -c.level, not c.nearby, not c.oriented, not c.speaking),
    )


def _bound(overseas: bool, occupation: float, nearby: bool) -> float:
    weights = weights_for(overseas)
    location = (
        (NAMED_COUNTRY if overseas else LIVES_THERE)
        if nearby
        else (OTHER_COUNTRY if overseas else ELSEWHERE)
    )
    lost = weights[Criterion.OCCUPATION] * (1 - occupation) + weights[Criterion.LOCATION] * (
        1 - location
    )
    return round(100 * (1 - lost), 2)


def enough(scores: list[float], wanted: int, next_bound: float | None) -> bool:
    """Whether the best `wanted` scores found so far are final (sorted best first): no row
    further down can reach the last of them, not even to tie (ties go by id)."""
    if next_bound is None:
        return True
    return len(scores) >= wanted and scores[wanted - 1] > next_bound


def only_ties_left(scores: list[float], wanted: int, next_bound: float | None) -> bool:
    """Whether rows further down can at best tie with the last of the best `wanted`: then only
    those ordered before it (by id) are worth fetching."""
    return next_bound is not None and len(scores) >= wanted and scores[wanted - 1] == next_bound


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def person_reasons(person: Any, today: date) -> list[dict[str, str]]:
    """Why a person cannot be matched to any job now (empty when they can).

    `person` is a candidate row or mapping with the read model's state columns.
    """
    get = person.get if isinstance(person, Mapping) else lambda k: getattr(person, k)
    return exclusion_reasons(
        {
            key: get(key)
            for key in (
                "eligible",
                "consent_job_matching",
                "consent_expires_on",
                "record_status",
                "jobseeker_status",
                "migration_status",
                "willing_abroad",
            )
        },
        today,
    )


def hard_filter_reasons(row: Mapping[str, Any], terms: Any, today: date) -> list[dict[str, str]]:
    """Why a hard filter keeps this person off a vacancy's list: their state, age, willingness."""
    reasons = person_reasons(row, today)
    age = age_on(row["date_of_birth"], today)
    if age < terms.min_age:
        reasons.append(
            {"code": "too_young", "detail": f"aged {age}; the job needs {terms.min_age} or older"}
        )
    if terms.max_age is not None and age > terms.max_age:
        reasons.append(
            {"code": "too_old", "detail": f"aged {age}; the job takes people up to {terms.max_age}"}
        )
    if terms.overseas and not row["willing_abroad"]:
        reasons.append(
            {"code": "not_willing_abroad", "detail": "has not said they would work abroad"}
        )
    return reasons
