"""HTTP routes for referrals and placements."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.matching.referrals import placing, referring, service
from services.matching.referrals.domain import ReferralStatus
from services.matching.referrals.schemas import (
    PlacementCreate,
    PlacementEnd,
    PlacementRead,
    ReferralCreate,
    ReferralList,
    ReferralRead,
    ReferralStatusIn,
)
from services.matching.scope import ActorDep
from shared import clock
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])
placements = APIRouter(prefix="/v1/placements", tags=["referrals"])


@router.post("", status_code=201, response_model=ReferralRead)
@idempotent
async def refer(body: ReferralCreate, session: SessionDep, actor: ActorDep) -> Answer[ReferralRead]:
    """Refer a person the caller serves (their province, an office serving them, or national
    scope) to a published vacancy of any province; 409 with every reason when the vacancy or
    a hard filter forbids it."""
    referral = await referring.refer(
        session,
        vacancy_id=body.vacancy_id,
        person_id=body.person_id,
        note=body.note,
        actor=actor,
        today=clock.today(),
    )
    return Answer(201, await service.read(session, referral))


@router.get("", response_model=ReferralList)
async def list_referrals(
    session: SessionDep,
    actor: ActorDep,
    vacancy_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    status: ReferralStatus | None = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReferralList:
    rows, following = await service.list_referrals(
        session,
        actor,
        vacancy_id=vacancy_id,
        person_id=person_id,
        status=status,
        open_only=open_only,
        cursor=cursor,
        limit=limit,
    )
    return ReferralList(items=[await service.read(session, r) for r in rows], next_cursor=following)


@router.get("/{referral_id}", response_model=ReferralRead)
async def get_referral(
    referral_id: uuid.UUID, session: SessionDep, actor: ActorDep
) -> ReferralRead:
    return await service.read(session, await service.get_referral(session, referral_id, actor))


@router.post("/{referral_id}/status", response_model=ReferralRead)
@idempotent
async def change_status(
    referral_id: uuid.UUID,
    body: ReferralStatusIn,
    session: SessionDep,
    actor: ActorDep,
) -> Answer[ReferralRead]:
    """Interviewed, offered, rejected, withdrawn or no-show; 409 names the allowed moves."""
    referral = await service.change_status(
        session, referral_id, body.status, reason=body.reason, actor=actor
    )
    return Answer(200, await service.read(session, referral))


@router.post("/{referral_id}/placement", status_code=201, response_model=PlacementRead)
@idempotent
async def place(
    referral_id: uuid.UUID,
    body: PlacementCreate,
    session: SessionDep,
    actor: ActorDep,
) -> Answer[PlacementRead]:
    """The person got the job (staff serving the person): one position fewer. Abroad only with
    the agency licensed for the destination, a valid orientation for it, a passport valid six
    months past the start and an open migration record (prospective or ready) for it: 409
    `missing-prerequisite` lists everything missing at once."""
    placement = await placing.place(
        session, referral_id, starts_on=body.starts_on, actor=actor, today=clock.today()
    )
    return Answer(201, PlacementRead.model_validate(placement))


@placements.get("/{placement_id}", response_model=PlacementRead)
async def get_placement(
    placement_id: uuid.UUID, session: SessionDep, actor: ActorDep
) -> PlacementRead:
    return PlacementRead.model_validate(await placing.get_placement(session, placement_id, actor))


@placements.post("/{placement_id}/end", response_model=PlacementRead)
@idempotent
async def end_placement(
    placement_id: uuid.UUID,
    body: PlacementEnd,
    session: SessionDep,
    actor: ActorDep,
) -> Answer[PlacementRead]:
    """The job ended (or fell through before the start): the person may be placed again."""
    placement = await placing.end_placement(
        session,
        placement_id,
        ended_on=body.ended_on,
        reason=body.reason,
        actor=actor,
        today=clock.today(),
    )
    return Answer(200, PlacementRead.model_validate(placement))
