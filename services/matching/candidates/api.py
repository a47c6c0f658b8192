"""HTTP route for the candidate read model: what matching knows of a person, and why not."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.matching.candidates import service
from services.matching.candidates.schemas import CandidateRead
from services.matching.scope import ActorDep
from shared import clock
from shared.db import SessionDep

router = APIRouter(prefix="/v1/candidates", tags=["candidates"])


@router.get("/{person_id}", response_model=CandidateRead)
async def get_candidate(
    person_id: uuid.UUID, session: SessionDep, actor: ActorDep
) -> CandidateRead:
    """The person as matching keeps them, with the hard filters that exclude them today.

    Office staff who serve the person (their province, an office serving them from another
    province, or national scope); others, analysts and agencies get 403.
    """
    return await service.read_candidate(session, person_id, actor, today=clock.today())
