"""HTTP routes for orientation sessions, their lifecycle, enrolment and waiting lists, and the
roster printed to fill by hand.

MRC staff manage the sessions of their own office (admins any). Scheduled and held sessions
are national: every office's staff and analysts read them, and officers enrol the people they
serve; closed and cancelled ones stay with their office and province (services/predeparture/
scope.py). Agencies and partners get 403.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from starlette.concurrency import run_in_threadpool

from services.predeparture.scope import Enroller, Manager
from services.predeparture.sessions import (
    enrolment_reading,
    listing,
    rosters,
    service,
    staff_enrolment,
)
from services.predeparture.sessions.domain import SessionStatus
from services.predeparture.sessions.roster_sheet import render_pdf
from services.predeparture.sessions.schemas import (
    CancellationIn,
    EnrolmentCreate,
    EnrolmentRead,
    Roster,
    SessionCreate,
    SessionPage,
    SessionRead,
    SessionStatusIn,
    SessionStatusRead,
    SessionUpdate,
)
from shared.app import SettingsDep
from shared.auth import Reader
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent
from shared.versioning import etag, parse_if_match

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


@router.post("", status_code=201, response_model=SessionRead)
@idempotent
async def create_session(
    body: SessionCreate,
    session: SessionDep,
    principal: Manager,
    settings: SettingsDep,
) -> Answer[SessionRead]:
    """Schedule a session at your office (or in a village of its area, `outreach`). A session
    held on a day without a connection is entered afterwards with its past start, up to
    `LABOURX_PREDEPARTURE_LATE_ENTRY_DAYS` days later: it is marked `entered_late` and audited,
    and its roster is entered and the session closed as usual."""
    orientation = await service.create_session(
        session, body, principal, late_entry_days=settings.predeparture_late_entry_days
    )
    return Answer(
        201, await service.read(session, orientation), headers={"ETag": etag(orientation.version)}
    )


@router.get("", response_model=SessionPage)
async def list_sessions(
    session: SessionDep,
    principal: Reader,
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
    """Sessions in the order they start, with places taken and the waiting list's length:
    every scheduled or held one, and the closed and cancelled ones of your office and
    province."""
    filters = listing.Filters(
        office_code=office_code.upper() if office_code else None,
        status=status,
        starts_from=starts_from,
        starts_to=starts_to,
    )
    items, following = await listing.list_sessions(
        session, filters, principal, cursor=cursor, limit=limit
    )
    return SessionPage(items=items, next_cursor=following)


@router.get("/{session_id}", response_model=SessionRead)
async def get_session(
    session_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> SessionRead:
    orientation = await service.readable_session(session, session_id, principal)
    response.headers["ETag"] = etag(orientation.version)
    return await service.read(session, orientation)


@router.patch("/{session_id}", response_model=SessionRead)
async def update_session(
    session_id: uuid.UUID,
    body: SessionUpdate,
    session: SessionDep,
    principal: Manager,
    response: Response,
    settings: SettingsDep,
    if_match: Annotated[str | None, Header()] = None,
) -> SessionRead:
    """Change a scheduled session; people enrolled are told of a new time, place or language.
    Send `If-Match` with the ETag read so no one's edit is lost (412 otherwise)."""
    orientation = await service.update_session(
        session,
        session_id,
        body,
        principal,
        expected_version=parse_if_match(if_match),
        late_entry_days=settings.predeparture_late_entry_days,
    )
    response.headers["ETag"] = etag(orientation.version)
    return await service.read(session, orientation)


@router.post("/{session_id}/status", response_model=SessionStatusRead)
@idempotent
async def change_status(
    session_id: uuid.UUID,
    body: SessionStatusIn,
    session: SessionDep,
    principal: Manager,
    settings: SettingsDep,
) -> Answer[SessionStatusRead]:
    """scheduled → held → closed once the session is over, or scheduled → cancelled with a
    reason, which cancels every place and tells each person. Closing issues the certificates
    of those who completed orientation with it (`certificates`). An invalid change answers
    409 with `current_status` and the `allowed` next states; one before the session's end,
    409 `session-not-ended` with `ends_at`."""
    orientation, certificates = await service.change_status(
        session, session_id, body, principal, settings
    )
    read = await service.read(session, orientation)
    answer = SessionStatusRead(**read.model_dump(), certificates=certificates)
    return Answer(200, answer)


@router.get("/{session_id}/enrolments", response_model=Roster)
async def get_roster(session_id: uuid.UUID, session: SessionDep, principal: Reader) -> Roster:
    """Who holds a place, and the waiting list in the order places will be offered: everyone
    for the session's office, the people you serve otherwise."""
    return await rosters.roster(session, session_id, principal)


@router.get(
    "/{session_id}/roster.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def roster_pdf(session_id: uuid.UUID, session: SessionDep, principal: Reader) -> Response:
    """The roster to print and fill by hand (A4 landscape, Lao then English): the session,
    everyone holding a place (the people you serve, if it is not your office's session), with
    a box to sign and a box per module; entered afterwards with `PUT .../attendance`."""
    sheet = await rosters.roster_sheet(session, session_id, principal)
    pdf = await run_in_threadpool(render_pdf, sheet)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="roster-{session_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/{session_id}/enrolments", status_code=201, response_model=EnrolmentRead)
@idempotent
async def enrol(
    session_id: uuid.UUID,
    body: EnrolmentCreate,
    session: SessionDep,
    principal: Enroller,
) -> Answer[EnrolmentRead]:
    """Enrol a person you serve (your province's, or linked to your office) in any office's
    scheduled session: a place while there is room, else the end of the waiting list. 403 for
    someone you do not serve; 409 when they already hold one in this session or it is no
    longer scheduled."""
    enrolment = await staff_enrolment.enrol(
        session, session_id, body.person_id, body.destination_country, principal
    )
    return Answer(201, await enrolment_reading.read_one(session, enrolment))


@router.post("/{session_id}/enrolments/{enrolment_id}/cancellation", response_model=EnrolmentRead)
@idempotent
async def cancel_enrolment(
    session_id: uuid.UUID,
    enrolment_id: uuid.UUID,
    body: CancellationIn,
    session: SessionDep,
    principal: Enroller,
) -> Answer[EnrolmentRead]:
    """Cancel a place or a turn, with the reason; a freed place goes to the oldest waiting.
    The session's office cancels any; another office's officer those of people they serve."""
    enrolment = await staff_enrolment.cancel_enrolment(
        session, session_id, enrolment_id, body.reason, principal
    )
    return Answer(200, await enrolment_reading.read_one(session, enrolment))
