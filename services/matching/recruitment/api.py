"""HTTP routes for overseas recruitment: a demand letter's name list and its cost ledger."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.matching.recruitment import service
from services.matching.recruitment.domain import EntryStatus
from services.matching.recruitment.schemas import (
    CostCreate,
    CostLedger,
    CostRead,
    NameListEntryRead,
    NameListRead,
    NameListSubmission,
    NameListSubmitted,
    NameListWithdrawal,
)
from services.matching.scope import ActorDep
from shared import clock
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent

router = APIRouter(prefix="/v1/vacancies", tags=["recruitment"])


@router.post(
    "/{vacancy_id}/name-list",
    status_code=201,
    response_model=NameListSubmitted,
    responses={200: {"model": NameListSubmitted, "description": "Everyone already selected"}},
)
@idempotent
async def submit_name_list(
    vacancy_id: uuid.UUID,
    body: NameListSubmission,
    session: SessionDep,
    actor: ActorDep,
) -> Answer[NameListSubmitted]:
    """Select referred people against a published demand letter (its agency, or officers), all
    or none: 422 `name-list-rows-refused` names each bad row, 409 `name-list-quota-exceeded`
    gives the quota and what remains. People already selected stay selected once."""
    submitted = await service.submit_name_list(
        session,
        vacancy_id,
        [row.person_id for row in body.entries],
        actor,
        today=clock.today(),
    )
    return Answer(201 if submitted.added else 200, submitted)


@router.get("/{vacancy_id}/name-list", response_model=NameListRead)
async def get_name_list(
    vacancy_id: uuid.UUID,
    session: SessionDep,
    actor: ActorDep,
    status: EntryStatus | None = None,
) -> NameListRead:
    """Selected and withdrawn entries in submitted order, with the quota and the places left."""
    return await service.get_name_list(session, vacancy_id, actor, status=status)


@router.post("/{vacancy_id}/name-list/{person_id}/withdrawal", response_model=NameListEntryRead)
@idempotent
async def withdraw_from_name_list(
    vacancy_id: uuid.UUID,
    person_id: uuid.UUID,
    body: NameListWithdrawal,
    session: SessionDep,
    actor: ActorDep,
) -> Answer[NameListEntryRead]:
    """Take a selected person off the list, with a reason; the place is free again."""
    entry = await service.withdraw(session, vacancy_id, person_id, reason=body.reason, actor=actor)
    return Answer(200, entry)


@router.post("/{vacancy_id}/costs", status_code=201, response_model=CostRead)
@idempotent
async def record_cost(
    vacancy_id: uuid.UUID,
    body: CostCreate,
    session: SessionDep,
    actor: ActorDep,
) -> Answer[CostRead]:
    """Append one recruitment cost of a worker on the name list, and who paid it. The ledger is
    never edited: a correction is a new row with a note. A cost the worker paid is recorded
    `flagged` (ILO Employer Pays Principle) and counts against the agency."""
    cost = await service.record_cost(session, vacancy_id, body, actor, today=clock.today())
    return Answer(201, service.cost_read(cost))


@router.get("/{vacancy_id}/costs", response_model=CostLedger)
async def cost_ledger(
    vacancy_id: uuid.UUID,
    session: SessionDep,
    actor: ActorDep,
    person_id: uuid.UUID | None = None,
) -> CostLedger:
    """The ledger oldest first, totals per payer and currency, and how many costs are flagged."""
    return await service.cost_ledger(session, vacancy_id, actor, person_id=person_id)
