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
        bool, Query(description="Also list people a hard filter left out, and why")
    ] = False,
) -> CandidateList:
    """Ranked candidates, best first, with the score broken down by criterion."""
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
    """Ranked published vacancies for a person, or why they cannot be matched."""
    return await service.vacancies_for_person(
        session, person_id, actor, limit=limit, today=clock.today()
    )
