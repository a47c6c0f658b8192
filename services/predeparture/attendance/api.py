"""HTTP routes for attendance: a session's roster entered whole, corrections after closing, and
their audit trail.

`PUT /v1/sessions/{id}/attendance` sets the cells it names (person x module) and leaves the
others as they are: sending the same roster again changes nothing and announces nothing, so a
client on a bad link simply sends it again (an `Idempotency-Key` is honoured too, and also
returns the first answer). The roster is checked as a whole: if any row is wrong, every bad
row is named in one 422 and nothing is written.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.predeparture.attendance import service
from services.predeparture.attendance.domain import RosterRow
from services.predeparture.attendance.schemas import (
    CorrectionIn,
    CorrectionRead,
    CorrectionsRead,
    RosterIn,
    RosterRead,
    RosterRowIn,
    RosterWritten,
)
from services.predeparture.completions.schemas import Recomputed
from services.predeparture.scope import Manager
from shared import clock
from shared.app import SettingsDep
from shared.auth import Reader
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent

router = APIRouter(prefix="/v1/sessions/{session_id}/attendance", tags=["attendance"])


class CorrectionsWritten(CorrectionsRead):
    certificates: Recomputed


def _rows(rows: list[RosterRowIn]) -> list[RosterRow]:
    return [RosterRow(r.person_id, r.module_code, r.status, r.note or None) for r in rows]


@router.put("", response_model=RosterWritten)
@idempotent
async def enter_roster(
    session_id: uuid.UUID,
    body: RosterIn,
    session: SessionDep,
    principal: Manager,
) -> Answer[RosterWritten]:
    """Set the roster of a session that has started and is not closed (staff of its office).
    Certificates are issued when the session is closed, not here (`certificates` stays empty
    for the clients that read it)."""
    written = await service.enter(session, session_id, _rows(body.rows), principal=principal)
    return Answer(200, written)


@router.get("", response_model=RosterRead)
async def read_roster(session_id: uuid.UUID, session: SessionDep, principal: Reader) -> RosterRead:
    """The roster grid: each person enrolled and their status in each module (for staff of
    another office, the people they serve)."""
    return await service.read_roster(session, session_id, principal)


@router.post("/corrections", status_code=201, response_model=CorrectionsWritten)
@idempotent
async def correct_roster(
    session_id: uuid.UUID,
    body: CorrectionIn,
    session: SessionDep,
    principal: Manager,
    settings: SettingsDep,
) -> Answer[CorrectionsWritten]:
    """Correct the roster of a closed session, with a reason; each change is kept for audit
    and completions follow (a certificate may be issued or withdrawn)."""
    trail, outcome = await service.correct(
        session,
        session_id,
        _rows(body.rows),
        reason=body.reason,
        principal=principal,
        today=clock.today(),
        settings=settings,
    )
    written = CorrectionsWritten(
        session_id=session_id,
        items=[CorrectionRead.model_validate(c) for c in trail],
        certificates=outcome,
    )
    return Answer(201, written)


@router.get("/corrections", response_model=CorrectionsRead)
async def list_corrections(
    session_id: uuid.UUID, session: SessionDep, principal: Reader
) -> CorrectionsRead:
    """Every correction made to the session's attendance after it closed, oldest first."""
    return await service.corrections(session, session_id, principal)
