"""HTTP routes for ranked matching: candidates for a vacancy, vacancies for a person."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.matching.ranking import service
from services.matching.ranking.schemas import CandidateList, VacancyList
from services.matching.scope import ActorDep
from shared import clock
from shared.db import SessionDep

router = APIRouter(tags=["matching"])

Limit = Annotated[int, Query(ge=1, le=service.MAX_RESULTS, description="How many to return")]


@router.get("/v1/vacancies/{vacancy_id}/candidates", response_model=CandidateList)
async def candidates_for_vacancy(
    vacancy_id: uuid.UUID,
    session: SessionDep,
    actor: ActorDep,
    limit: Limit = 20,
    include_excluded: Annotated[
        bool,
        Query(
            description="Also list, in `excluded`, the people closest to the job whom a hard"
            " filter leaves out (up to `limit`, ranked the same way), each with every filter"
            " that does"
        ),
    ] = False,
) -> CandidateList:
    """Ranked candidates, best first, with the score broken down by criterion.

    **Who is considered**: people registry announced to matching whom the caller serves (their
    province, or people their office serves from another province; national scope: everyone)
    and whom no hard filter leaves out:

    - a **job-matching consent** in force: given or renewed at registry, not withdrawn, not past
      its expiry date (`no_consent`, `consent_expired`);
    - an **active record**: not merged into another or erased (`merged`, `record_closed`);
    - **looking for work**: a jobseeker whose status is active or referred (not placed or
      inactive: `jobseeker_placed`, `jobseeker_inactive`), or, registered without a jobseeker
      profile, a prospective migrant (`not_looking`);
    - **not abroad**: no migration record departed or abroad (`abroad`);
    - of the vacancy's **age** range on today's date (`too_young`, `too_old`);
    - for an overseas vacancy, **willing to work abroad** (`not_willing_abroad`).

    Sex, ethnicity, religion and disability are never considered. Any office's staff rank for
    a published vacancy (the job bank is national); a draft only its province's staff.
    """
    return await service.candidates_for_vacancy(
        session,
        vacancy_id,
        actor,
        limit=limit,
        include_excluded=include_excluded,
        today=clock.today(),
    )


@router.get("/v1/people/{person_id}/vacancies", response_model=VacancyList)
async def vacancies_for_person(
    person_id: uuid.UUID, session: SessionDep, actor: ActorDep, limit: Limit = 20
) -> VacancyList:
    """Ranked published vacancies of the whole country for a person the caller serves (their
    province, an office serving them, or national scope), or why the person cannot be matched
    (`exclusions`, as in the candidates' list)."""
    return await service.vacancies_for_person(
        session, person_id, actor, limit=limit, today=clock.today()
    )
