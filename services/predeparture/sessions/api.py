"""HTTP routes for orientation sessions, their lifecycle, enrolment and waiting lists.

MRC staff manage the sessions of their own office (admins any); ESC staff, analysts and
admins read; agencies and partners get 403.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse

from services.predeparture.scope import Manager, Reader
from services.predeparture.sessions import enrolment as places
from services.predeparture.sessions import service
from services.predeparture.sessions.domain import SessionStatus
from services.predeparture.sessions.schemas import (
    CancellationIn,
    EnrolmentCreate,
    EnrolmentRead,
    Roster,
    SessionCreate,
    SessionPage,
    SessionRead,
    SessionStatusIn,
    SessionUpdate,
)
from shared.db import SessionDep
from shared.idempotency import IdempotencyDep
from shared.versioning import etag, parse_if_match

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


@router.post("", status_code=201, response_model=SessionRead)
async def create_session(
    body: SessionCreate, session: SessionDep, principal: Manager, idempotency: IdempotencyDep
) -> JSONResponse:
    """Schedule a session at your office (or in a village of its area, `outreach`)."""
    if (replayed := await idempotency.replay(session)) is not None:
        return replayed
    orientation = await service.create_session(session, body, principal)
    answer = await idempotency.remember(session, 201, await service.read(session, orientation))
    answer.headers["ETag"] = etag(orientation.version)
    return answer


@router.get("", response_model=SessionPage)
async def list_sessions(
    session: SessionDep,
    _: Reader,
    office_code: Annotated[str | None, Query(max_length=20)] = None,
    status: SessionStatus | None = None,
    starts_from: Annotated[
        date | None, Query(alias="from", description="First day (Lao time), inclusive")
    ] = None,
    starts_to: Annotated[
        date | None, Query(alias="to", description="Last day (Lao time), inclusive")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SessionPage:
    """Sessions in the order they start, with places taken and the waiting list's length."""
    filters = service.Filters(
        office_code=office_code.upper() if office_code else None,
        status=status,
        starts_from=starts_from,
        starts_to=starts_to,
    )
    items, following = await service.list_sessions(session, filters, cursor=cursor, limit=limit)
    return SessionPage(items=items, next_cursor=following)


@router.get("/{session_id}", response_model=SessionRead)
async def get_session(
    session_id: uuid.UUID, session: SessionDep, _: Reader, response: Response
) -> SessionRead:
    orientation = await service.get_session(session, session_id)
    response.headers["ETag"] = etag(orientation.version)
    return await service.read(session, orientation)


@router.patch("/{session_id}", response_model=SessionRead)
async def update_session(
    session_id: uuid.UUID,
    body: SessionUpdate,
    session: SessionDep,
    principal: Manager,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> SessionRead:
    """Change a scheduled session; people enrolled are told of a new time, place or language.
    Send `If-Match` with the ETag read so no one's edit is lost (412 otherwise)."""
    orientation = await service.update_session(
        session, session_id, body, principal, expected_version=parse_if_match(if_match)
    )
    response.headers["ETag"] = etag(orientation.version)
    return await service.read(session, orientation)


@router.post("/{session_id}/status", response_model=SessionRead)
async def change_status(
    session_id: uuid.UUID,
    body: SessionStatusIn,
    session: SessionDep,
    principal: Manager,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """scheduled → held (once started) → closed, or scheduled → cancelled with a reason,
    which cancels every place and tells each person. An invalid change answers 409 with
    `current_status` and the `allowed` next states."""
    if (replayed := await idempotency.replay(session)) is not None:
        return replayed
    orientation = await service.change_status(session, session_id, body, principal)
    return await idempotency.remember(session, 200, await service.read(session, orientation))


@router.get("/{session_id}/enrolments", response_model=Roster)
async def get_roster(session_id: uuid.UUID, session: SessionDep, _: Reader) -> Roster:
    """Who holds a place, and the waiting list in the order places will be offered."""
    return await places.roster(session, await service.get_session(session, session_id))


@router.post("/{session_id}/enrolments", status_code=201, response_model=EnrolmentRead)
async def enrol(
    session_id: uuid.UUID,
    body: EnrolmentCreate,
    session: SessionDep,
    principal: Manager,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Enrol a learner: a place while there is room, else the end of the waiting list.
    409 when they already hold one in this session or it is no longer scheduled."""
    if (replayed := await idempotency.replay(session)) is not None:
        return replayed
    enrolment = await service.enrol(
        session, session_id, body.person_id, body.destination_country, principal
    )
    return await idempotency.remember(session, 201, await places.read_one(session, enrolment))


@router.post("/{session_id}/enrolments/{enrolment_id}/cancellation", response_model=EnrolmentRead)
async def cancel_enrolment(
    session_id: uuid.UUID,
    enrolment_id: uuid.UUID,
    body: CancellationIn,
    session: SessionDep,
    principal: Manager,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Cancel a place or a turn, with the reason; a freed place goes to the oldest waiting."""
    if (replayed := await idempotency.replay(session)) is not None:
        return replayed
    enrolment = await service.cancel_enrolment(
        session, session_id, enrolment_id, body.reason, principal
    )
    return await idempotency.remember(session, 200, await places.read_one(session, enrolment))
