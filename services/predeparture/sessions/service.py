"""Session operations: scheduling, changes and the lifecycle, each with its
SessionStatusChanged event (and the enrolled people's EnrolmentChanged) in one transaction."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from services.predeparture.attendance.models import Attendance
from services.predeparture.audit import service as audit
from services.predeparture.audit.domain import Action
from services.predeparture.completions import recomputing as completions
from services.predeparture.completions.schemas import Recomputed
from services.predeparture.curricula.models import Curriculum, CurriculumModule
from services.predeparture.scope import require_manager, require_session_reader
from services.predeparture.sessions import enrolment as places
from services.predeparture.sessions.domain import (
    CHANGEABLE,
    LIVE,
    OPTIONAL,
    EnrolmentStatus,
    SessionStatus,
    capacity_errors,
    changed,
    check_scheduled,
    check_status_change,
    entered_late,
    notice_reason,
    office_errors,
    office_province,
    place_errors,
    planned_modules,
    time_errors,
)
from services.predeparture.sessions.models import OrientationSession
from services.predeparture.sessions.schemas import (
    SessionCreate,
    SessionRead,
    SessionStatusIn,
    SessionUpdate,
)
from shared import clock
from shared.clock import LAO_TIME
from shared.db import clock_now
from shared.events.predeparture import SessionStatusChanged
from shared.outbox import add_event
from shared.problems import FieldError, InvalidFields, NotFound
from shared.versioning import check_version

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal
    from shared.settings import Settings

ACTIVE_CURRICULUM = "active"
# Cancelling a session: these places and turns are cancelled, and the people told why.
SESSION_CANCELLED = "session cancelled"
# Holding it: the waiting list had no place; those people are free to be invited again.
HELD_WITHOUT_PLACE = "the session was held without a place for you"
# What every session has: a change may not empty it.
NOT_NULL = tuple(f for f in CHANGEABLE if f not in OPTIONAL)


def to_read(orientation: OrientationSession, taken: dict[str, int]) -> SessionRead:
    enrolled = taken.get(EnrolmentStatus.ENROLLED, 0)
    return SessionRead.model_validate(
        {c.key: getattr(orientation, c.key) for c in OrientationSession.__table__.columns}
        | {
            "enrolled": enrolled,
            "waitlisted": taken.get(EnrolmentStatus.WAITLISTED, 0),
            "places_left": max(orientation.capacity - enrolled, 0),
        }
    )


async def read(session: AsyncSession, orientation: OrientationSession) -> SessionRead:
    return to_read(orientation, await places.counts(session, orientation.id))


async def announce(
    session: AsyncSession,
    orientation: OrientationSession,
    previous: str | None,
    *,
    reason: str | None,
    changed_by: str,
) -> None:
    """Stage the session's SessionStatusChanged: its status now, and what it was before."""
    await add_event(
        session,
        SessionStatusChanged(
            session_id=orientation.id,
            office_code=orientation.office_code,
            province_code=orientation.province_code,
            status=orientation.status,
            previous_status=previous,
            reason=reason,
            starts_at=orientation.starts_at,
            ends_at=orientation.ends_at,
            venue=orientation.venue,
            outreach=orientation.outreach,
            language=orientation.language,
            capacity=orientation.capacity,
            changed_by=changed_by,
            changed_at=orientation.updated_at,
            entered_late=orientation.entered_late,
            entered_late_by=orientation.created_by if orientation.entered_late else None,
            entered_late_at=orientation.created_at if orientation.entered_late else None,
        ),
    )


# -- reading ---------------------------------------------------------------------------------


async def orientation_session(
    session: AsyncSession, session_id: uuid.UUID, *, lock: bool = False
) -> OrientationSession:
    """A session (held locked until the transaction ends with `lock`); 404 when unknown."""
    if lock:
        return await places.locked_session(session, session_id)
    found = await session.get(OrientationSession, session_id)
    if found is None:
        raise NotFound(f"no orientation session {session_id}", field="session_id")
    return found


async def managed_session(
    session: AsyncSession, session_id: uuid.UUID, principal: Principal
) -> OrientationSession:
    """A session locked for a change by staff of its office (403 for anyone else)."""
    orientation = await orientation_session(session, session_id, lock=True)
    require_manager(principal, orientation.office_code)
    return orientation


async def readable_session(
    session: AsyncSession, session_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> OrientationSession:
    """A session the principal may read (403 otherwise; 404 when unknown)."""
    orientation = await orientation_session(session, session_id, lock=lock)
    require_session_reader(principal, orientation)
    return orientation


# -- scheduling and changing -----------------------------------------------------------------


async def _curriculum_modules(
    session: AsyncSession, curriculum_id: uuid.UUID
) -> tuple[list[str] | None, list[FieldError]]:
    """The module codes of an active curriculum, or what is wrong with `curriculum_id`."""
    curriculum = await session.get(Curriculum, curriculum_id)
    if curriculum is None:
        return None, [FieldError("curriculum_id", f"no curriculum {curriculum_id}")]
    if curriculum.status != ACTIVE_CURRICULUM:
        message = f"the curriculum is {curriculum.status}, not active"
        return None, [FieldError("curriculum_id", message)]
    codes = await session.scalars(
        select(CurriculumModule.code).where(CurriculumModule.curriculum_id == curriculum_id)
    )
    return list(codes.all()), []


async def create_session(
    session: AsyncSession, data: SessionCreate, principal: Principal, *, late_entry_days: int
) -> OrientationSession:
    """Schedule a session at the caller's office and announce it; or record one held on a day
    without a connection (a start at most `late_entry_days` ago), marked as entered late and
    audited. Every bad field is named in one 422."""
    office_code = data.office_code.upper()
    errors = office_errors(office_code)
    if not errors:
        require_manager(principal, office_code)
    now = await clock_now(session)
    errors += time_errors(data.starts_at, data.ends_at, now, late_entry_days=late_entry_days)
    errors += place_errors(data.outreach, data.district, data.village)
    known, curriculum_errors = await _curriculum_modules(session, data.curriculum_id)
    errors += curriculum_errors
    modules, module_errors = planned_modules(data.planned_modules, known or [])
    if known is not None:
        errors += module_errors
    if errors:
        raise InvalidFields(errors)
    orientation = OrientationSession(
        id=uuid.uuid4(),
        office_code=office_code,
        province_code=office_province(office_code),
        curriculum_id=data.curriculum_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        facilitator=data.facilitator,
        language=data.language,
        venue=data.venue,
        outreach=data.outreach,
        district=data.district,
        village=data.village,
        capacity=data.capacity,
        planned_modules=modules,
        status=SessionStatus.SCHEDULED,
        status_reason=None,
        entered_late=entered_late(data.starts_at, now),
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(orientation)
    await session.flush()
    await announce(session, orientation, None, reason=None, changed_by=principal.subject)
    if orientation.entered_late:
        await _audit_late(session, principal, orientation)
    return orientation


async def _audit_late(
    session: AsyncSession, principal: Principal, orientation: OrientationSession
) -> None:
    held = orientation.starts_at.astimezone(LAO_TIME).isoformat(timespec="minutes")
    await audit.record(
        session,
        principal,
        Action.SESSION_ENTERED_LATE,
        subject_id=orientation.id,
        reason=f"held from {held}, entered from paper",
    )


async def update_session(
    session: AsyncSession,
    session_id: uuid.UUID,
    data: SessionUpdate,
    principal: Principal,
    *,
    expected_version: int | None,
    late_entry_days: int,
) -> OrientationSession:
    """Change a scheduled session. A change of time, place or language is told to everyone
    enrolled; more places move the waiting list up. 412 on a stale `expected_version`; every
    bad field named in one 422."""
    orientation = await managed_session(session, session_id, principal)
    check_version(orientation.version, expected_version)
    check_scheduled(orientation.status, "a session is changed")
    sent = data.model_dump(exclude_unset=True)
    errors = [
        FieldError(field, "cannot be removed")
        for field in NOT_NULL
        if field in sent and sent[field] is None
    ]
    if errors:
        raise InvalidFields(errors)
    current: dict[str, Any] = {f: getattr(orientation, f) for f in CHANGEABLE}
    changes = changed(current, sent)
    if not changes:
        return orientation
    merged = current | changes
    if "starts_at" in changes or "ends_at" in changes:
        errors += time_errors(
            merged["starts_at"],
            merged["ends_at"],
            await clock_now(session),
            late_entry_days=late_entry_days,
            new_start="starts_at" in changes,
            # Only the date of a session entered from paper may be corrected into the past.
            past_allowed=orientation.entered_late,
        )
    errors += place_errors(merged["outreach"], merged["district"], merged["village"])
    if "planned_modules" in changes:
        known, curriculum_errors = await _curriculum_modules(session, orientation.curriculum_id)
        changes["planned_modules"], module_errors = planned_modules(
            changes["planned_modules"], known or []
        )
        errors += curriculum_errors + module_errors
    taken = await places.counts(session, orientation.id)
    if "capacity" in changes:
        errors += capacity_errors(changes["capacity"], taken[EnrolmentStatus.ENROLLED])
    if errors:
        raise InvalidFields(errors)
    for field, value in changes.items():
        setattr(orientation, field, value)
    orientation.updated_at = await clock_now(session)
    orientation.version += 1
    await session.flush()
    by = principal.subject
    status = orientation.status
    await announce(
        session, orientation, status, reason=f"changed: {', '.join(sorted(changes))}", changed_by=by
    )
    if (notice := notice_reason(changes)) is not None and not orientation.entered_late:
        await places.tell_enrolled(session, orientation, reason=notice, by=by)
    if "capacity" in changes:
        await places.promote(session, orientation, by=by)
    return orientation


async def change_status(
    session: AsyncSession,
    session_id: uuid.UUID,
    data: SessionStatusIn,
    principal: Principal,
    settings: Settings,
) -> tuple[OrientationSession, Recomputed]:
    """scheduled → held (once over) → closed (once over), or scheduled → cancelled with a
    reason.

    Cancelling cancels every place and turn, each announced; holding it releases the waiting
    list; closing it makes its attendance count, so the certificates of everyone who completed
    orientation with it are issued then (and not when a roster is first saved). An invalid
    change answers 409 with `current_status` and the `allowed` next states, or with `ends_at`
    when the session is not over yet.
    """
    orientation = await managed_session(session, session_id, principal)
    current, requested = SessionStatus(orientation.status), SessionStatus(data.status)
    now = await clock_now(session)
    check_status_change(
        current, requested, reason=data.reason, ends_at=orientation.ends_at, now=now
    )
    by = principal.subject
    orientation.status = requested
    orientation.status_reason = data.reason
    orientation.updated_at = now
    orientation.version += 1
    await session.flush()
    await announce(session, orientation, current, reason=data.reason, changed_by=by)
    if requested is SessionStatus.CANCELLED:
        await places.cancel_all(
            session, orientation, LIVE, reason=f"{SESSION_CANCELLED}: {data.reason}", by=by
        )
    elif requested is SessionStatus.HELD:
        waiting = frozenset({EnrolmentStatus.WAITLISTED})
        await places.cancel_all(session, orientation, waiting, reason=HELD_WITHOUT_PLACE, by=by)
    elif requested is SessionStatus.CLOSED:
        attended = await session.scalars(
            select(Attendance.person_id).where(Attendance.session_id == orientation.id).distinct()
        )
        return orientation, await completions.recompute(
            session, attended.all(), settings=settings, today=clock.today(), by=by
        )
    return orientation, Recomputed()
