"""HTTP routes for recruitment agencies: the ministry's supervisors (admins) license,
suspend, revoke and renew; officers take complaints; an agency sees only itself."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.matching.agencies import complaints as agency_complaints
from services.matching.agencies import licences, service
from services.matching.agencies.schemas import (
    AgencyCreate,
    AgencyDetail,
    AgencyPage,
    AgencyStatusIn,
    ComplaintCreate,
    ComplaintList,
    ComplaintRead,
    ComplaintStatusIn,
    LicenceRenewal,
)
from services.matching.scope import ActorDep
from shared import clock
from shared.auth import Admin
from shared.db import SessionDep
from shared.events.matching import AgencyState
from shared.idempotency import Answer, idempotent
from shared.problems import InvalidField
from shared.reference.places import validate_country

router = APIRouter(prefix="/v1/agencies", tags=["agencies"])


@router.post("", status_code=201, response_model=AgencyDetail)
@idempotent
async def create_agency(
    body: AgencyCreate, session: SessionDep, principal: Admin
) -> Answer[AgencyDetail]:
    """License an agency (active); 409 naming `code` or `licence_number` when already taken."""
    today = clock.today()
    agency = await service.create_agency(session, body, principal, today=today)
    return Answer(201, await service.to_detail(session, agency, today))


@router.get("", response_model=AgencyPage)
async def list_agencies(
    session: SessionDep,
    actor: ActorDep,
    status: AgencyState | None = None,
    destination: Annotated[str | None, Query(max_length=2)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Name contains")] = (
        None
    ),
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AgencyPage:
    """Agencies newest first with their effective status (`expired` once the licence ran out)."""
    if destination is not None:
        try:
            destination = validate_country(destination)
        except ValueError as exc:
            raise InvalidField("destination", str(exc)) from exc
    items, following = await service.list_agencies(
        session,
        service.Filters(status=status, destination=destination, q=q),
        actor,
        today=clock.today(),
        cursor=cursor,
        limit=limit,
    )
    return AgencyPage(items=items, next_cursor=following)


@router.get("/{agency_id}", response_model=AgencyDetail)
async def get_agency(agency_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> AgencyDetail:
    """The agency, its licence decisions, complaints and worker-paid costs counted."""
    agency = await service.get_agency(session, agency_id, actor)
    return await service.to_detail(session, agency, clock.today())


@router.post("/{agency_id}/status", response_model=AgencyDetail)
@idempotent
async def change_status(
    agency_id: uuid.UUID,
    body: AgencyStatusIn,
    session: SessionDep,
    principal: Admin,
) -> Answer[AgencyDetail]:
    """Suspend or revoke (with a reason; pauses its published vacancies) or reinstate
    (republishes them). An invalid change answers 409 with `current_status` and `allowed`."""
    today = clock.today()
    agency = await licences.change_status(session, agency_id, body, principal, today=today)
    return Answer(200, await service.to_detail(session, agency, today))


@router.post("/{agency_id}/licence", response_model=AgencyDetail)
@idempotent
async def renew_licence(
    agency_id: uuid.UUID,
    body: LicenceRenewal,
    session: SessionDep,
    principal: Admin,
) -> Answer[AgencyDetail]:
    """Renew the licence: a new expiry date, and optionally number and destinations."""
    today = clock.today()
    agency = await licences.renew_licence(session, agency_id, body, principal, today=today)
    return Answer(200, await service.to_detail(session, agency, today))


@router.post("/{agency_id}/complaints", status_code=201, response_model=ComplaintRead)
@idempotent
async def file_complaint(
    agency_id: uuid.UUID,
    body: ComplaintCreate,
    session: SessionDep,
    actor: ActorDep,
) -> Answer[ComplaintRead]:
    """Record a complaint against the agency (office staff)."""
    complaint = await agency_complaints.file_complaint(
        session, agency_id, body, actor, today=clock.today()
    )
    return Answer(201, ComplaintRead.model_validate(complaint))


@router.get("/{agency_id}/complaints", response_model=ComplaintList)
async def list_complaints(
    agency_id: uuid.UUID, session: SessionDep, actor: ActorDep
) -> ComplaintList:
    """Complaints against the agency, newest first: every one for supervisors, those an office
    took for its staff; analysts read the counts on the agency instead."""
    complaints = await agency_complaints.list_complaints(session, agency_id, actor)
    return ComplaintList(items=[ComplaintRead.model_validate(c) for c in complaints])


@router.post("/{agency_id}/complaints/{complaint_id}/status", response_model=ComplaintRead)
@idempotent
async def change_complaint_status(
    agency_id: uuid.UUID,
    complaint_id: uuid.UUID,
    body: ComplaintStatusIn,
    session: SessionDep,
    principal: Admin,
) -> Answer[ComplaintRead]:
    """Investigate, uphold or dismiss a complaint (supervisors); upheld and dismissed need the
    `outcome`."""
    complaint = await agency_complaints.change_complaint_status(
        session, agency_id, complaint_id, body
    )
    return Answer(200, ComplaintRead.model_validate(complaint))
