"""Attendance operations: a session's whole roster in one statement, corrections after closing
with their audit trail (completions recomputed in the same transaction), and the grid as each
reader may see it.

A roster entered while the session is open counts for nothing yet: completions are recomputed
when the session is closed (sessions/service.change_status), so a roster saved a minute after
the start, or half-way through, issues no certificate."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select, text

from services.predeparture.attendance.domain import (
    RosterRow,
    as_rows,
    check_correction,
    check_entry,
    check_rows,
)
from services.predeparture.attendance.models import Attendance, AttendanceCorrection
from services.predeparture.attendance.schemas import (
    Cell,
    CorrectionRead,
    CorrectionsRead,
    RosterLine,
    RosterRead,
    RosterWritten,
)
from services.predeparture.audit import service as audit
from services.predeparture.audit.domain import Action
from services.predeparture.completions import recomputing as completions
from services.predeparture.completions.schemas import Recomputed
from services.predeparture.learners.models import Learner
from services.predeparture.scope import require_manager, require_session_reader, visible_people
from services.predeparture.sessions.models import Enrolment, OrientationSession
from shared.db import clock_now
from shared.problems import InvalidFields, NotFound

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal
    from shared.settings import Settings

# Set every cell of the roster in one statement. A cell whose status and note are unchanged is
# not touched (its recorder and time stay). Rows are written in (person, module) order, so that
# two clients writing the same cells lock them in the same order and cannot deadlock.
_UPSERT = text(
    """
    INSERT INTO attendance AS a
        (session_id, person_id, module_code, status, note, recorded_by, recorded_at)
    SELECT :session_id, r.person_id, r.module_code, r.status, r.note, :by, :at
    FROM unnest(
        CAST(:persons AS uuid[]), CAST(:modules AS varchar[]),
        CAST(:statuses AS varchar[]), CAST(:notes AS text[])
    ) AS r(person_id, module_code, status, note)
    ORDER BY r.person_id, r.module_code COLLATE "C"
    ON CONFLICT (session_id, person_id, module_code) DO UPDATE
    SET status = excluded.status, note = excluded.note,
        recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at
    WHERE (a.status, a.note) IS DISTINCT FROM (excluded.status, excluded.note)
    """
)

# A roster entered: checked and written in one statement. `refused` when any row is wrong (a
# person without a place, a module the session does not plan, an unknown status, a cell given
# twice), and then nothing is written (`domain.check_rows` names every bad row); else the cells
# whose status or note changed, written as by `_UPSERT`. The cells come as one JSON array of
# [person, module, status, note]: 540 cells as four arrays cost asyncpg more Python to encode
# (a type check and a conversion per element) than the rest of the request's own work.
_ENTER = text(
    """
    WITH r AS (
        SELECT CAST(c ->> 0 AS uuid) AS person_id, c ->> 1 AS module_code, c ->> 2 AS status,
               c ->> 3 AS note
        FROM json_array_elements(CAST(:cells AS json)) AS c
    ),
    enrolled AS (
        SELECT person_id FROM enrolments WHERE session_id = :session_id AND status = 'enrolled'
    ),
    bad AS (
        SELECT 1 FROM (
            SELECT 1 FROM r LEFT JOIN enrolled e ON e.person_id = r.person_id
            WHERE e.person_id IS NULL
               OR r.module_code IS NULL OR r.module_code <> ALL(CAST(:planned AS varchar[]))
               OR r.status IS NULL OR r.status NOT IN ('present', 'absent', 'excused')
            UNION ALL
            SELECT 1 FROM r GROUP BY r.person_id, r.module_code HAVING count(*) > 1
        ) b
        LIMIT 1
    ),
    written AS (
        INSERT INTO attendance AS a
            (session_id, person_id, module_code, status, note, recorded_by, recorded_at)
        SELECT :session_id, r.person_id, r.module_code, r.status, r.note, :by, :at
        FROM r
        WHERE NOT EXISTS (SELECT FROM bad)
        ORDER BY r.person_id, r.module_code COLLATE "C"
        ON CONFLICT (session_id, person_id, module_code) DO UPDATE
        SET status = excluded.status, note = excluded.note,
            recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at
        WHERE (a.status, a.note) IS DISTINCT FROM (excluded.status, excluded.note)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM written) AS changed, EXISTS (SELECT FROM bad) AS refused
    """
)

# The session whose roster is entered, share-locked (a concurrent close or cancellation waits
# until the roster is written), with the database's clock read once the lock is held.
_OPEN = text(
    """
    WITH s AS (
        SELECT office_code, status, starts_at, planned_modules
        FROM orientation_sessions WHERE id = :id
        FOR SHARE
    )
    SELECT s.office_code, s.status, s.starts_at, s.planned_modules, clock_timestamp() AS now
    FROM s
    """
)

# The cells a correction touches, locked so that two corrections of one cell keep their order.
_CURRENT = text(
    """
    SELECT a.person_id, a.module_code, a.status
    FROM attendance a
    JOIN unnest(CAST(:persons AS uuid[]), CAST(:modules AS varchar[])) AS r(person_id, module_code)
      ON a.person_id = r.person_id AND a.module_code = r.module_code
    WHERE a.session_id = :session_id
    FOR UPDATE OF a
    """
)


async def _session(
    session: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
) -> OrientationSession:
    # A share lock holds off a concurrent close (or cancellation) until the roster is written.
    found = await session.get(
        OrientationSession, session_id, with_for_update={"read": True} if lock else None
    )
    if found is None:
        raise NotFound(f"no session {session_id}")
    return found


async def _managed(
    session: AsyncSession, session_id: uuid.UUID, principal: Principal
) -> OrientationSession:
    """The session, share-locked, for a change of its roster by staff of its office (403
    for anyone else)."""
    orientation = await _session(session, session_id, lock=True)
    require_manager(principal, orientation.office_code)
    return orientation


async def _enrolled(
    session: AsyncSession, session_id: uuid.UUID, among: Sequence[uuid.UUID] | None = None
) -> set[uuid.UUID]:
    """Who holds a place in the session (of `among`, when given)."""
    query = select(Enrolment.person_id).where(
        Enrolment.session_id == session_id, Enrolment.status == "enrolled"
    )
    if among is not None:
        query = query.where(Enrolment.person_id.in_(among))
    return set((await session.scalars(query)).all())


async def _upsert(
    session: AsyncSession,
    orientation: OrientationSession,
    rows: Sequence[RosterRow],
    *,
    by: str,
    at: datetime,
) -> None:
    """Write the cells in one statement."""
    persons, modules, statuses, notes = as_rows(rows)
    await session.execute(
        _UPSERT,
        {
            "session_id": orientation.id,
            "persons": persons,
            "modules": modules,
            "statuses": statuses,
            "notes": notes,
            "by": by,
            "at": at,
        },
    )


async def _check(
    session: AsyncSession,
    session_id: uuid.UUID,
    planned: Sequence[str],
    rows: Sequence[RosterRow],
) -> None:
    """The whole roster is refused, every bad row named, if any row is wrong."""
    enrolled = await _enrolled(session, session_id, list({r.person_id for r in rows}))
    errors = check_rows(rows, enrolled=enrolled, planned=planned)
    if errors:
        raise InvalidFields(errors)


async def enter(
    session: AsyncSession,
    session_id: uuid.UUID,
    rows: Sequence[RosterRow],
    *,
    principal: Principal,
) -> RosterWritten:
    """Set the given cells of an open session's roster (staff of its office). Nothing is
    issued yet: closing the session does that.

    Two statements: the session, share-locked, with the time; then the rows checked and
    written together (`_ENTER`). A roster with a bad row is read again to name them all."""
    found = (await session.execute(_OPEN, {"id": session_id})).one_or_none()
    if found is None:
        raise NotFound(f"no session {session_id}")
    office_code, status, starts_at, planned, now = found
    require_manager(principal, office_code)
    check_entry(status, starts_at, now)
    cells = json.dumps([(str(r.person_id), r.module_code, r.status, r.note) for r in rows])
    changed, refused = (
        await session.execute(
            _ENTER,
            {
                "session_id": session_id,
                "cells": cells,
                "planned": list(planned),
                "by": principal.subject,
                "at": now,
            },
        )
    ).one()
    if refused:
        await _check(session, session_id, planned, rows)
        raise AssertionError("a roster refused in SQL passed the checks in Python")
    return RosterWritten(session_id=session_id, received=len(rows), changed=changed)


async def correct(
    session: AsyncSession,
    session_id: uuid.UUID,
    rows: Sequence[RosterRow],
    *,
    reason: str,
    principal: Principal,
    today: date,
    settings: Settings,
) -> tuple[list[AttendanceCorrection], Recomputed]:
    """Change cells of a closed session's roster: each change is kept in the append-only trail
    with its reason, and the completions of the people concerned are recomputed."""
    orientation = await _managed(session, session_id, principal)
    check_correction(orientation.status)
    await _check(session, orientation.id, orientation.planned_modules, rows)
    persons, modules, _, _ = as_rows(rows)
    current = {
        (r.person_id, r.module_code): r.status
        for r in (
            await session.execute(
                _CURRENT, {"session_id": orientation.id, "persons": persons, "modules": modules}
            )
        ).mappings()
    }
    # Only a change of status is a correction; a row that repeats the recorded status is
    # ignored, so a retried correction writes nothing twice.
    changes = [r for r in rows if current.get((r.person_id, r.module_code)) != r.status]
    if not changes:
        return [], Recomputed()
    now = await clock_now(session)
    trail = [
        AttendanceCorrection(
            id=uuid.uuid4(),
            session_id=orientation.id,
            person_id=r.person_id,
            module_code=r.module_code,
            previous_status=current.get((r.person_id, r.module_code)),
            status=r.status,
            reason=reason,
            corrected_by=principal.subject,
            corrected_at=now,
        )
        for r in changes
    ]
    session.add_all(trail)
    await _upsert(session, orientation, changes, by=principal.subject, at=now)
    await session.flush()
    outcome = await completions.recompute(
        session,
        {r.person_id for r in changes},
        settings=settings,
        today=today,
        by=principal.subject,
        reason=reason,
    )
    return trail, outcome


async def roster(
    session: AsyncSession, orientation: OrientationSession, principal: Principal
) -> RosterRead:
    """The grid: everyone enrolled (and anyone with attendance kept from before their place was
    cancelled), each with a cell per module entered; for staff of another office, only the
    people they serve. Audited per person shown."""
    enrolled = await _enrolled(session, orientation.id)
    cells = (
        (await session.execute(select(Attendance).where(Attendance.session_id == orientation.id)))
        .scalars()
        .all()
    )
    people = await visible_people(
        session, principal, orientation.office_code, enrolled | {c.person_id for c in cells}
    )
    learners = (
        {
            learner.person_id: learner
            for learner in (
                await session.scalars(select(Learner).where(Learner.person_id.in_(people)))
            ).all()
        }
        if people
        else {}
    )
    grid: dict[uuid.UUID, dict[str, Cell]] = {p: {} for p in people}
    for c in cells:
        if c.person_id in grid:
            grid[c.person_id][c.module_code] = Cell(
                status=c.status, note=c.note, recorded_by=c.recorded_by, recorded_at=c.recorded_at
            )

    def order(person_id: uuid.UUID) -> tuple[str, str]:
        learner = learners.get(person_id)
        return (learner.reference if learner else "~", str(person_id))

    shown = sorted(people, key=order)
    await audit.record(session, principal, Action.ROSTER_READ, shown, subject_id=orientation.id)
    return RosterRead(
        session_id=orientation.id,
        office_code=orientation.office_code,
        session_status=orientation.status,
        starts_at=orientation.starts_at,
        modules=list(orientation.planned_modules),
        people=[
            RosterLine(
                person_id=p,
                reference=learners[p].reference if p in learners else None,
                initials=learners[p].initials if p in learners else None,
                enrolled=p in enrolled,
                modules=grid[p],
            )
            for p in shown
        ],
    )


async def _readable(
    session: AsyncSession, session_id: uuid.UUID, principal: Principal
) -> OrientationSession:
    orientation = await _session(session, session_id)
    require_session_reader(principal, orientation)
    return orientation


async def read_roster(
    session: AsyncSession, session_id: uuid.UUID, principal: Principal
) -> RosterRead:
    return await roster(session, await _readable(session, session_id, principal), principal)


async def corrections(
    session: AsyncSession, session_id: uuid.UUID, principal: Principal
) -> CorrectionsRead:
    """The session's corrections, oldest first (of the people the principal may see)."""
    orientation = await _readable(session, session_id, principal)
    found = (
        await session.scalars(
            select(AttendanceCorrection)
            .where(AttendanceCorrection.session_id == orientation.id)
            .order_by(AttendanceCorrection.corrected_at, AttendanceCorrection.id)
        )
    ).all()
    visible = await visible_people(
        session, principal, orientation.office_code, {c.person_id for c in found}
    )
    return CorrectionsRead(
        session_id=orientation.id,
        items=[CorrectionRead.model_validate(c) for c in found if c.person_id in visible],
    )
