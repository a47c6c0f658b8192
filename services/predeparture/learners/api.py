"""HTTP routes for learners: the people predeparture knows, and who waits for orientation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.predeparture.learners import service
from services.predeparture.learners.schemas import LearnerDetail, LearnerPage, LearnerRead
from shared import clock
from shared.auth import Reader
from shared.db import SessionDep
from shared.problems import InvalidField
from shared.reference.places import validate_province

router = APIRouter(prefix="/v1/learners", tags=["learners"])


@router.get("", response_model=LearnerPage)
async def list_learners(
    session: SessionDep,
    principal: Reader,
    awaiting: Annotated[
        bool,
        Query(
            description="Only prospective migrants with no place to come and no valid "
            "orientation for their destination: whom to plan sessions for"
        ),
    ] = False,
    office_code: Annotated[str | None, Query(max_length=20)] = None,
    province_code: Annotated[str | None, Query(max_length=6)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> LearnerPage:
    """The learners you serve (your province's, those linked to your office, those on your
    office's sessions; everyone for national scope), those known longest first."""
    if province_code is not None:
        try:
            province_code = validate_province(province_code)
        except ValueError as exc:
            raise InvalidField("province_code", str(exc)) from exc
    filters = service.Filters(
        awaiting=awaiting,
        office_code=office_code.upper() if office_code else None,
        province_code=province_code,
    )
    rows, following = await service.list_learners(
        session, filters, principal, today=clock.today(), cursor=cursor, limit=limit
    )
    return LearnerPage(items=[LearnerRead.model_validate(r) for r in rows], next_cursor=following)


@router.get("/{person_id}", response_model=LearnerDetail)
async def get_learner(
    person_id: uuid.UUID, session: SessionDep, principal: Reader
) -> LearnerDetail:
    """A learner with their places and turns, and whether they wait for orientation (staff
    of the person's province or of an office serving them; 403 otherwise)."""
    return await service.read_learner(session, person_id, principal, today=clock.today())
