"""The ranking queries: criterion values computed in the database, best rows first.

Two directions share the criteria of ranking/domain.py: candidates for a vacancy (the vacancy's
requirements are parameters, candidates are rows) and vacancies for a person (the person's
profile is the parameter, vacancies are rows). Each query returns every criterion value as its
own column, so the breakdown an officer sees is exactly what ordered the list.

The SQL text is assembled only from constants of ranking/domain.py and column names; every value
that comes from a request or a record travels as a bind parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.matching.ranking import keys
from services.matching.ranking.domain import (
    ANY_COUNTRY,
    DESIRED_UNIT,
    EDUCATION_ONE_LEVEL_BELOW,
    ELSEWHERE,
    EXPERIENCE_GROUP_DIGITS,
    EXPERIENCED_UNIT,
    LIVES_THERE,
    NAMED_COUNTRY,
    ORIENTATION_SHARE,
    OTHER_COUNTRY,
    PASSPORT_DAYS_AFTER_START,
    SHARED_LEVEL,
    WOULD_MOVE_THERE,
    Cell,
    Criterion,
    Weights,
    passport_needed_until,
    weights_for,
)
from shared.clock import add_years

if TYPE_CHECKING:
    import uuid
    from datetime import date

    from services.matching.scope import PeopleScope

CRITERIA = tuple(Criterion)


@dataclass(frozen=True)
class Query:
    sql: str
    params: dict[str, Any]


def _weighted(weights: Weights, alias: str = "m") -> str:
    """The score out of 100 from the criterion columns of subquery `alias`."""
    terms = " + ".join(f"{100 * w!r} * {alias}.{c.value}" for c, w in weights.items())
    return f"({terms})"


# -- candidates for a vacancy ----------------------------------------------------------------


@dataclass(frozen=True)
class VacancyTerms:
    """What a vacancy asks, as the candidate query needs it."""

    isco08: str
    overseas: bool
    province_code: str
    destination_country: str | None
    required_skills: list[str]
    min_isced: int | None
    min_experience_years: float
    languages: list[str]
    min_age: int
    max_age: int | None
    starts_on: date | None


def _count_present(items: list[str], column: str, prefix: str, params: dict[str, Any]) -> str:
    """Share of `items` found in the array `column` (1 when nothing is asked)."""
    if not items:
        return "1.0"
    parts = []
    for i, item in enumerate(items):
        params[f"{prefix}{i}"] = item
        parts.append(f"(:{prefix}{i} = ANY({column}))::int")
    return f"(({' + '.join(parts)})::float / {len(items)})"


def candidates_for(
    terms: VacancyTerms,
    cell: Cell,
    *,
    limit: int,
    today: date,
    excluded: bool = False,
    person_id: uuid.UUID | None = None,
    before: uuid.UUID | None = None,
    people: PeopleScope | None = None,
) -> Query:
    """The best `limit` candidates in `cell` for a vacancy, with every criterion value.

    `excluded=True` searches the people the hard filters leave out instead, to explain them;
    `person_id` scores that one person only (a referral records the score it was made at);
    `before` keeps only people whose id sorts before it (see service._top); `people` keeps
    only those a provincial officer serves (None: everyone, national scope).
    """
    code = terms.isco08
    params: dict[str, Any] = {
        "today": today,
        "born_by": add_years(today, -terms.min_age),
        "limit": limit,
        "passport_needed": passport_needed_until(terms.starts_on, today),
    }
    occupation = _occupation_score(code, params)
    where = _narrowing(params, person_id=person_id, before=before, people=people)
    filters = _hard_filters(terms, today, params)
    retrieval = [keys.occupation(code, cell.level)] if cell.level else []
    if terms.overseas:
        location, readiness = _abroad(terms, cell, excluded, params, where, filters, retrieval)
    else:
        location, readiness = _at_home(terms, cell, params, retrieval)
    if cell.speaking:
        retrieval += [keys.language(code) for code in terms.languages]
    if retrieval:
        params["retrieval"] = retrieval
        where.append("c.match_keys @> CAST(:retrieval AS varchar[])")
    where.append(f"NOT ({' AND '.join(filters)})" if excluded else " AND ".join(filters))
    education = _education_score(terms, params)
    experience = _experience_score(terms, params)
    skills = _count_present(terms.required_skills, "c.skills", "skill", params)
    languages = _count_present(terms.languages, "c.languages", "language", params)
    columns = {
        Criterion.OCCUPATION: occupation,
        Criterion.SKILLS: skills,
        Criterion.LOCATION: location,
        Criterion.EDUCATION: education,
        Criterion.EXPERIENCE: experience,
        Criterion.LANGUAGES: languages,
        Criterion.READINESS: readiness,
    }
    return Query(_ranked(terms, columns, where), params)


def _occupation_score(code: str, params: dict[str, Any]) -> str:
    """The occupation criterion: experienced in the job's unit group, then desired, then how
    many leading ISCO-08 digits a desired occupation shares with it."""
    params.update({f"o{n}": keys.occupation(code, n) for n in range(1, 5)})
    params["e4"] = f"e4:{code}"
    return (
        f"CASE WHEN :e4 = ANY(c.match_keys) THEN {EXPERIENCED_UNIT}"
        f" WHEN :o4 = ANY(c.match_keys) THEN {DESIRED_UNIT}"
        f" WHEN :o3 = ANY(c.match_keys) THEN {SHARED_LEVEL[3]}"
        f" WHEN :o2 = ANY(c.match_keys) THEN {SHARED_LEVEL[2]}"
        f" WHEN :o1 = ANY(c.match_keys) THEN {SHARED_LEVEL[1]} ELSE 0.0 END"
    )


def _narrowing(
    params: dict[str, Any],
    *,
    person_id: uuid.UUID | None,
    before: uuid.UUID | None,
    people: PeopleScope | None,
) -> list[str]:
    """The conditions that narrow the search to one person, a page, or an officer's scope."""
    where: list[str] = []
    if person_id is not None:
        params["person_id"] = person_id
        where.append("c.person_id = :person_id")
    if before is not None:
        params["before"] = before
        where.append("c.person_id < :before")
    if people is not None:
        # Scope, not a hard filter: people of the officer's province or served by their office.
        where.append(people.sql(params))
    return where


def _hard_filters(terms: VacancyTerms, today: date, params: dict[str, Any]) -> list[str]:
    """Hard filters: the stored flag (consent, record, status), then what depends on the date."""
    filters = [
        "c.eligible",
        "(c.consent_expires_on IS NULL OR c.consent_expires_on >= :today)",
        "c.date_of_birth <= :born_by",
    ]
    if terms.max_age is not None:
        params["born_after"] = add_years(today, -(terms.max_age + 1))
        filters.append("c.date_of_birth > :born_after")
    return filters


def _abroad(
    terms: VacancyTerms,
    cell: Cell,
    excluded: bool,
    params: dict[str, Any],
    where: list[str],
    filters: list[str],
    retrieval: list[str],
) -> tuple[str, str]:
    """The location and readiness criteria of a job abroad; adds its filter (willing to work
    abroad) and the cell's keys to `filters`, `retrieval` and `where`."""
    assert terms.destination_country
    params["country"] = keys.country(terms.destination_country)
    params["destination"] = terms.destination_country
    location = (
        f"CASE WHEN :country = ANY(c.match_keys) THEN {NAMED_COUNTRY}"
        f" WHEN '{keys.ANYWHERE_ABROAD}' = ANY(c.match_keys) THEN {ANY_COUNTRY}"
        f" ELSE {OTHER_COUNTRY} END"
    )
    readiness = (
        f"({ORIENTATION_SHARE} * (EXISTS (SELECT 1 FROM candidate_orientations o"
        " WHERE o.person_id = c.person_id AND o.destination_country = :destination"
        " AND o.valid_until >= :today))::int"
        f" + {1 - ORIENTATION_SHARE} * (coalesce(c.passport_expires_on >= :passport_needed,"
        " false))::int)"
    )
    if excluded:
        filters.append("c.willing_abroad")
    else:
        retrieval.append(keys.WILLING_ABROAD)
    if cell.oriented:
        retrieval.append(keys.oriented(terms.destination_country))
    if cell.nearby:
        params["nearby"] = [params["country"], keys.ANYWHERE_ABROAD]
        where.append("c.match_keys && CAST(:nearby AS varchar[])")
    return location, readiness


def _at_home(
    terms: VacancyTerms, cell: Cell, params: dict[str, Any], retrieval: list[str]
) -> tuple[str, str]:
    """The location and readiness criteria of a job in the country; adds the cell's key (the
    job's province) to `retrieval`."""
    params["province"] = terms.province_code
    location = (
        f"CASE WHEN c.province_code = :province THEN {LIVES_THERE}"
        f" WHEN :province_key = ANY(c.match_keys) THEN {WOULD_MOVE_THERE}"
        f" ELSE {ELSEWHERE} END"
    )
    params["province_key"] = keys.province(terms.province_code)
    if cell.nearby:
        retrieval.append(params["province_key"])
    return location, "0.0"


def _education_score(terms: VacancyTerms, params: dict[str, Any]) -> str:
    if terms.min_isced is None:
        return "1.0"
    params["min_isced"] = terms.min_isced
    return (
        "CASE WHEN c.isced_level >= :min_isced THEN 1.0"
        f" WHEN c.isced_level = :min_isced - 1 THEN {EDUCATION_ONE_LEVEL_BELOW} ELSE 0.0 END"
    )


def _experience_score(terms: VacancyTerms, params: dict[str, Any]) -> str:
    """Years in the job's ISCO-08 minor group against the years asked (1 when none are)."""
    if terms.min_experience_years <= 0:
        return "1.0"
    params["group"] = terms.isco08[:EXPERIENCE_GROUP_DIGITS]
    params["min_years"] = float(terms.min_experience_years)
    return (
        "least(1.0, coalesce((SELECT max((e->>'years')::float)"
        " FROM jsonb_array_elements(c.experience) e"
        f" WHERE left(e->>'isco08', {EXPERIENCE_GROUP_DIGITS}) = :group), 0) / :min_years)"
    )


def _ranked(terms: VacancyTerms, columns: dict[Criterion, str], where: list[str]) -> str:
    """The query: each candidate's criteria, weighted into a score, best first."""
    selected = ",\n  ".join(f"{expr} AS {c.value}" for c, expr in columns.items())
    return (
        "SELECT m.*, "
        + _weighted(weights_for(terms.overseas))
        + " AS score FROM (\n SELECT c.person_id, c.reference, c.display_name, c.province_code,"
        " c.date_of_birth, c.jobseeker_status, c.migration_status, c.consent_job_matching,"
        " c.consent_expires_on, c.record_status, c.willing_abroad, c.eligible,\n  "
        + selected
        + "\n FROM candidates c WHERE "
        + " AND ".join(where)
        + "\n) m ORDER BY score DESC, m.person_id LIMIT :limit"
    )


# -- vacancies for a person ------------------------------------------------------------------


@dataclass(frozen=True)
class PersonProfile:
    """What a person offers, as the vacancy query needs it."""

    experienced: list[str]  # ISCO-08 unit groups worked in
    desired: list[str]
    province_code: str
    preferred_provinces: list[str]
    willing_abroad: bool
    abroad_countries: list[str]
    skills: list[str]
    isced_level: int | None
    languages: list[str]
    years_by_group: dict[str, float]  # years of experience per ISCO-08 minor group
    oriented_for: list[str]  # destinations with a valid orientation
    passport_expires_on: date | None
    age: int


def _person_params(person: PersonProfile, *, limit: int, today: date) -> dict[str, Any]:
    """The bind parameters every vacancy query for `person` uses."""
    return {
        "experienced": person.experienced,
        "desired": person.desired,
        "province": person.province_code,
        "preferred": person.preferred_provinces,
        "countries": person.abroad_countries,
        "skills": person.skills,
        "isced": -1 if person.isced_level is None else person.isced_level,
        "languages": person.languages,
        "years": json.dumps(person.years_by_group),
        "oriented": person.oriented_for,
        "passport_until": person.passport_expires_on,
        "today": today,
        "age": person.age,
        "limit": limit,
    }


def _vacancy_occupation_score(codes: list[str], params: dict[str, Any]) -> str:
    """How close a vacancy's occupation is to one the person worked in or wants."""
    shared_levels = []
    for n in (3, 2, 1):
        params[f"o{n}"] = sorted({keys.occupation(c, n) for c in codes})
        shared_levels.append(
            f" WHEN v.match_keys && CAST(:o{n} AS varchar[]) THEN {SHARED_LEVEL[n]}"
        )
    return (
        f"CASE WHEN v.isco08 = ANY(CAST(:experienced AS varchar[])) THEN {EXPERIENCED_UNIT}"
        f" WHEN v.isco08 = ANY(CAST(:desired AS varchar[])) THEN {DESIRED_UNIT}"
        + "".join(shared_levels)
        + " ELSE 0.0 END"
    )


def _vacancy_location_score(person: PersonProfile) -> str:
    """How well a vacancy's place suits where the person lives or would go."""
    anywhere = person.willing_abroad and not person.abroad_countries
    return (
        "CASE WHEN v.kind = 'domestic' THEN"
        f" (CASE WHEN v.province_code = :province THEN {LIVES_THERE}"
        f" WHEN v.province_code = ANY(CAST(:preferred AS varchar[])) THEN {WOULD_MOVE_THERE}"
        f" ELSE {ELSEWHERE} END)"
        f" WHEN v.destination_country = ANY(CAST(:countries AS varchar[])) THEN {NAMED_COUNTRY}"
        f" ELSE {ANY_COUNTRY if anywhere else OTHER_COUNTRY} END"
    )


def _vacancy_readiness_score() -> str:
    """For an overseas vacancy, the person's orientation for its destination and passport."""
    passport = (
        "coalesce(CAST(:passport_until AS date) >= greatest(coalesce(v.starts_on, :today), :today)"
        f" + {PASSPORT_DAYS_AFTER_START}, false)"
    )
    readiness = (
        f"({ORIENTATION_SHARE} * (v.destination_country = ANY(CAST(:oriented AS varchar[])))::int"
        f" + {1 - ORIENTATION_SHARE} * ({passport})::int)"
    )
    return f"CASE WHEN v.kind = 'overseas' THEN {readiness} ELSE 0.0 END"


def _vacancy_columns(
    person: PersonProfile, codes: list[str], params: dict[str, Any]
) -> dict[Criterion, str]:
    """Each criterion's value for a vacancy row, as an SQL expression."""
    return {
        Criterion.OCCUPATION: _vacancy_occupation_score(codes, params),
        Criterion.SKILLS: (
            "CASE WHEN cardinality(v.required_skills) = 0 THEN 1.0 ELSE (SELECT count(*)"
            " FROM unnest(v.required_skills) s WHERE s = ANY(CAST(:skills AS varchar[])))::float"
            " / cardinality(v.required_skills) END"
        ),
        Criterion.LOCATION: _vacancy_location_score(person),
        Criterion.EDUCATION: (
            "CASE WHEN v.min_isced IS NULL OR :isced >= v.min_isced THEN 1.0"
            f" WHEN :isced = v.min_isced - 1 THEN {EDUCATION_ONE_LEVEL_BELOW} ELSE 0.0 END"
        ),
        Criterion.EXPERIENCE: (
            "CASE WHEN v.min_experience_years <= 0 THEN 1.0 ELSE least(1.0, coalesce(("
            f"CAST(:years AS jsonb) ->> left(v.isco08, {EXPERIENCE_GROUP_DIGITS}))::float, 0)"
            " / v.min_experience_years::float) END"
        ),
        Criterion.LANGUAGES: (
            "CASE WHEN cardinality(v.languages) = 0 THEN 1.0 ELSE (SELECT count(*)"
            " FROM unnest(v.languages) l WHERE l = ANY(CAST(:languages AS varchar[])))::float"
            " / cardinality(v.languages) END"
        ),
        Criterion.READINESS: _vacancy_readiness_score(),
    }


def _vacancy_filters(
    person: PersonProfile,
    cell: Cell,
    codes: list[str],
    before: uuid.UUID | None,
    params: dict[str, Any],
) -> list[str]:
    """The conditions a vacancy must meet: published, the person's age, and the cell's keys."""
    where = [
        "v.status = 'published'",
        ":age >= v.min_age",
        "(v.max_age IS NULL OR :age <= v.max_age)",
    ]
    if before is not None:
        params["before"] = before
        where.append("v.id < :before")
    if cell.level:
        params["retrieval"] = sorted({keys.occupation(c, cell.level) for c in codes})
        where.append("v.match_keys && CAST(:retrieval AS varchar[])")
    if not person.willing_abroad:
        where.append("v.kind = 'domestic'")
    if cell.nearby:
        nearby = [keys.province(p) for p in {person.province_code, *person.preferred_provinces}]
        if person.willing_abroad:
            nearby += (
                [keys.destination(c) for c in person.abroad_countries]
                if person.abroad_countries
                else [keys.ANY_DESTINATION]
            )
        params["nearby"] = sorted(nearby)
        where.append("v.match_keys && CAST(:nearby AS varchar[])")
    return where


def _ranked_vacancies(columns: dict[Criterion, str], where: list[str]) -> str:
    """The vacancies meeting `where` with their criterion values, best score first."""
    selected = ",\n  ".join(f"{expr} AS {c.value}" for c, expr in columns.items())
    domestic, overseas = weights_for(False), weights_for(True)
    return (
        "SELECT m.*, CASE WHEN m.kind = 'domestic' THEN "
        + _weighted(domestic)
        + " ELSE "
        + _weighted(overseas)
        + " END AS score FROM (\n SELECT v.id, v.reference, v.title, v.kind, v.isco08,"
        " v.province_code, v.destination_country, v.open_positions, v.closes_on,\n  "
        + selected
        + "\n FROM vacancies v WHERE "
        + " AND ".join(where)
        + "\n) m ORDER BY score DESC, m.id LIMIT :limit"
    )


def vacancies_for(
    person: PersonProfile,
    cell: Cell,
    *,
    limit: int,
    today: date,
    before: uuid.UUID | None = None,
) -> Query:
    """The best `limit` published vacancies in `cell` for a person, with every criterion value
    (only those whose id sorts before `before`, when set)."""
    codes = [*person.experienced, *person.desired]
    params = _person_params(person, limit=limit, today=today)
    columns = _vacancy_columns(person, codes, params)
    where = _vacancy_filters(person, cell, codes, before, params)
    return Query(_ranked_vacancies(columns, where), params)
