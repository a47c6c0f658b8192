"""Ranked matching in both directions: candidates for a vacancy, vacancies for a person."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from services.matching.candidates.models import Candidate, CandidateOrientation
from services.matching.ranking import domain
from services.matching.ranking.domain import Cell, Criterion, Weights
from services.matching.ranking.schemas import (
    CandidateList,
    CriterionScore,
    ExcludedCandidate,
    Exclusion,
    RankedCandidate,
    RankedVacancy,
    SearchInfo,
    VacancyList,
)
from services.matching.ranking.sql import (
    PersonProfile,
    Query,
    VacancyTerms,
    candidates_for,
    vacancies_for,
)
from services.matching.vacancies.reading import get_vacancy
from shared.problems import NotFound

if TYPE_CHECKING:
    import uuid
    from collections.abc import Callable, Mapping
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.scope import Actor
    from services.matching.vacancies.models import Vacancy

MAX_RESULTS = 100


def _breakdown(row: Mapping[str, Any], weights: Weights) -> list[CriterionScore]:
    return [
        CriterionScore(
            criterion=c,
            value=round(float(row[c.value]), 4),
            weight=w,
            points=round(100 * w * float(row[c.value]), 2),
        )
        for c, w in weights.items()
    ]


async def _top(
    session: AsyncSession,
    plan: list[Cell],
    build: Callable[[Cell, Any], Query],
    limit: int,
    key: str,
) -> tuple[list[Mapping[str, Any]], int]:
    """The exact top `limit` rows, fetching cell by cell until nothing further down can compete.

    Each cell's query returns the best of every row at least as good in occupation and place, so
    the union of what was fetched holds the best of every cell searched. `build(cell, before)`
    makes a cell's query; `before`, when set, keeps only rows whose id sorts before it: once
    rows further down can at best tie with the last of the top, only those could displace it.
    """
    found: dict[Any, Mapping[str, Any]] = {}
    best: list[Mapping[str, Any]] = []
    before = None
    for index, cell in enumerate(plan):
        query = build(cell, before)
        for row in (await session.execute(text(query.sql), query.params)).mappings():
            found[row[key]] = dict(row)
        best = sorted(found.values(), key=lambda r: (-float(r["score"]), str(r[key])))[:limit]
        following = plan[index + 1].bound if index + 1 < len(plan) else None
        scores = [float(r["score"]) for r in best]
        if domain.enough(scores, limit, following):
            return best, index + 1
        before = best[-1][key] if domain.only_ties_left(scores, limit, following) else None
    return best, len(plan)


def vacancy_terms(vacancy: Vacancy) -> VacancyTerms:
    return VacancyTerms(
        isco08=vacancy.isco08,
        overseas=vacancy.kind == "overseas",
        province_code=vacancy.province_code,
        destination_country=vacancy.destination_country,
        required_skills=list(vacancy.required_skills),
        min_isced=vacancy.min_isced,
        min_experience_years=float(vacancy.min_experience_years),
        languages=list(vacancy.languages),
        min_age=vacancy.min_age,
        max_age=vacancy.max_age,
        starts_on=vacancy.starts_on,
    )


def candidate_plan(terms: VacancyTerms) -> list[Cell]:
    """The cells a search for this vacancy's candidates goes through, best first."""
    return domain.search_plan(
        domestic=not terms.overseas,
        overseas=terms.overseas,
        readiness=terms.overseas,
        languages=terms.languages,
    )


def _excluded(row: Mapping[str, Any], terms: VacancyTerms, today: date) -> ExcludedCandidate:
    return ExcludedCandidate(
        person_id=row["person_id"],
        reference=row["reference"],
        display_name=row["display_name"],
        province_code=row["province_code"],
        score=round(float(row["score"]), 2),
        reasons=[Exclusion(**r) for r in domain.hard_filter_reasons(row, terms, today)],
    )


async def candidates_for_vacancy(
    session: AsyncSession,
    vacancy_id: uuid.UUID,
    actor: Actor,
    *,
    limit: int,
    include_excluded: bool,
    today: date,
) -> CandidateList:
    """The best candidates for a vacancy among the people the officer serves, each with the
    score broken down by criterion; on request also the closest of those a hard filter leaves
    out, ranked the same way, with the filters that do."""
    actor.require_staff()
    vacancy = await get_vacancy(session, vacancy_id, actor)
    terms = vacancy_terms(vacancy)
    weights = domain.weights_for(terms.overseas)
    plan = candidate_plan(terms)
    people = actor.people()

    def search(excluded: bool) -> Callable[[Cell, Any], Query]:
        return lambda cell, before: candidates_for(
            terms, cell, limit=limit, today=today, before=before, excluded=excluded, people=people
        )

    rows, searched = await _top(session, plan, search(False), limit, "person_id")
    items = [
        RankedCandidate(
            rank=n,
            person_id=row["person_id"],
            reference=row["reference"],
            display_name=row["display_name"],
            province_code=row["province_code"],
            score=round(float(row["score"]), 2),
            breakdown=_breakdown(row, weights),
        )
        for n, row in enumerate(rows, start=1)
    ]
    excluded = None
    if include_excluded:
        # The same search over the people the hard filters leave out: the closest to the job
        # first, wherever they are in the occupation hierarchy (not only its unit group).
        found, _ = await _top(session, plan, search(True), limit, "person_id")
        excluded = [_excluded(row, terms, today) for row in found]
    return CandidateList(
        vacancy_id=vacancy.id,
        overseas=terms.overseas,
        items=items,
        excluded=excluded,
        search=SearchInfo(groups_searched=searched),
    )


async def person_profile(session: AsyncSession, candidate: Candidate, today: date) -> PersonProfile:
    oriented = await session.scalars(
        select(CandidateOrientation.destination_country).where(
            CandidateOrientation.person_id == candidate.person_id,
            CandidateOrientation.valid_until >= today,
        )
    )
    years: dict[str, float] = {}
    experienced = []
    for job in candidate.experience:
        code = str(job["isco08"])
        if len(code) == 4:
            experienced.append(code)
        group = code[: domain.EXPERIENCE_GROUP_DIGITS]
        years[group] = max(years.get(group, 0.0), float(job.get("years") or 0))
    return PersonProfile(
        experienced=experienced,
        desired=[c for c in candidate.desired_occupations if len(c) == 4],
        province_code=candidate.province_code,
        preferred_provinces=list(candidate.preferred_provinces),
        willing_abroad=candidate.willing_abroad,
        abroad_countries=list(candidate.abroad_countries),
        skills=list(candidate.skills),
        isced_level=candidate.isced_level,
        languages=list(candidate.languages),
        years_by_group=years,
        oriented_for=list(oriented),
        passport_expires_on=candidate.passport_expires_on,
        age=domain.age_on(candidate.date_of_birth, today),
    )


async def vacancies_for_person(
    session: AsyncSession, person_id: uuid.UUID, actor: Actor, *, limit: int, today: date
) -> VacancyList:
    """The best published vacancies of the whole country for a person the officer serves, each
    with the score broken down."""
    actor.require_staff()
    candidate = await session.get(Candidate, person_id)
    if candidate is None or candidate.record_status == "erased":
        raise NotFound(f"matching knows no person {person_id}")
    if candidate.record_status == "merged" and candidate.merged_into is not None:
        candidate = await session.get(Candidate, candidate.merged_into) or candidate
    actor.require_serves_candidate(candidate)
    reasons = domain.person_reasons(candidate, today)
    if reasons:
        return VacancyList(
            person_id=candidate.person_id,
            items=[],
            exclusions=[Exclusion(**r) for r in reasons],
            search=SearchInfo(groups_searched=0),
        )
    profile = await person_profile(session, candidate, today)
    rows, searched = await _top(
        session,
        domain.search_plan(overseas=profile.willing_abroad),
        lambda cell, before: vacancies_for(profile, cell, limit=limit, today=today, before=before),
        limit,
        "id",
    )
    items = [
        RankedVacancy(
            rank=n,
            vacancy_id=row["id"],
            reference=row["reference"],
            title=row["title"],
            kind=row["kind"],
            isco08=row["isco08"],
            province_code=row["province_code"],
            destination_country=row["destination_country"],
            open_positions=row["open_positions"],
            closes_on=row["closes_on"],
            score=round(float(row["score"]), 2),
            breakdown=_breakdown(row, domain.weights_for(row["kind"] == "overseas")),
        )
        for n, row in enumerate(rows, start=1)
    ]
    return VacancyList(
        person_id=candidate.person_id, items=items, search=SearchInfo(groups_searched=searched)
    )


__all__ = ["MAX_RESULTS", "Criterion", "candidates_for_vacancy", "vacancies_for_person"]
