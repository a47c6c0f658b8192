"""Session operations: scheduling, changes and the lifecycle, each with its
SessionStatusChanged event (and the enrolled people's EnrolmentChanged) in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.predeparture.curricula.models import Curriculum, CurriculumModule
from services.predeparture.scope import require_manager
from services.predeparture.sessions import enrolment as places
from services.predeparture.sessions.domain import (
    CHANGEABLE,
    LIVE,
    EnrolmentStatus,
    SessionStatus,
    changed,
    check_capacity,
    check_office,
    check_place,
    check_planned_modules,
    check_scheduled,
    check_status_change,
    check_times,
    notice_reason,
    office_province,
)
from services.predeparture.sessions.models import Enrolment, OrientationSession
from services.predeparture.sessions.schemas import (
    SessionCreate,
    SessionRead,
    SessionStatusIn,
    SessionUpdate,
)
from shared.auth import Principal
from shared.clock import LAO_TIME
from shared.db import clock_now
from shared.events.predeparture import SessionStatusChanged
from shared.outbox import add_event
from shared.pagination import decode_cursor, encode_cursor
from shared.problems import InvalidField, NotFound
from shared.versioning import check_version

ACTIVE_CURRICULUM = "active"
# Cancelling a session: these places and turns are cancelled, and the people told why.
SESSION_CANCELLED = "session cancelled"
# Holding it: the waiting list had no place; those people are free to be invited again.
HELD_WITHOUT_PLACE = "the session was held without a place for you"
# What every session has: a change may not empty it.
NOT_NULL = (
    "starts_at",
    "ends_at",
    "facilitator",
    "language",
    "venue",
    "outreach",
    "capacity",
    "planned_modules",
)


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
        ),
    )


# -- reading ---------------------------------------------------------------------------------


async def get_session(
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
    orientation = await get_session(session, session_id, lock=True)
    require_manager(principal, orientation.office_code)
    return orientation


@dataclass(frozen=True)
class Filters:
    office_code: str | None = None
    status: str | None = None
    starts_from: date | None = None
    starts_to: date | None = None


def _lao_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LAO_TIME)


def _conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.office_code is not None:
        conditions.append(OrientationSession.office_code == filters.office_code)
    if filters.status is not None:
        conditions.append(OrientationSession.status == filters.status)
    # Dates as the offices read them: a day runs midnight to midnight in Lao time.
    if filters.starts_from is not None:
        conditions.append(OrientationSession.starts_at >= _lao_midnight(filters.starts_from))
    if filters.starts_to is not None:
        end = _lao_midnight(filters.starts_to + timedelta(days=1))
        conditions.append(OrientationSession.starts_at < end)
    return conditions


async def list_sessions(
    session: AsyncSession, filters: Filters, *, cursor: str | None, limit: int
) -> tuple[list[SessionRead], str | None]:
    """A page of sessions in the order they start, and the next page's cursor."""
    if filters.starts_from and filters.starts_to and filters.starts_to < filters.starts_from:
        raise InvalidField("to", "is before from")
    taken = (
        select(
            Enrolment.session_id,
            func.count().filter(Enrolment.status == EnrolmentStatus.ENROLLED).label("enrolled"),
            func.count().filter(Enrolment.status == EnrolmentStatus.WAITLISTED).label("waitlisted"),
        )
        .where(Enrolment.status.in_(sorted(LIVE)))
        .group_by(Enrolment.session_id)
        .subquery()
    )
    query = (
        select(
            OrientationSession,
            case((taken.c.enrolled.is_(None), 0), else_=taken.c.enrolled),
            case((taken.c.waitlisted.is_(None), 0), else_=taken.c.waitlisted),
        )
        .outerjoin(taken, taken.c.session_id == OrientationSession.id)
        .where(*_conditions(filters))
    )
    if cursor is not None:
        at, last_id = decode_cursor(cursor)
        query = query.where(
            tuple_(OrientationSession.starts_at, OrientationSession.id) > tuple_(at, last_id)
        )
    query = query.order_by(OrientationSession.starts_at, OrientationSession.id).limit(limit + 1)
    rows = list(await session.execute(query))
    page = rows[:limit]
    items = [
        to_read(o, {EnrolmentStatus.ENROLLED: int(e), EnrolmentStatus.WAITLISTED: int(w)})
        for o, e, w in page
    ]
    following = None
    if len(rows) > limit:
        last = page[-1][0]
        following = encode_cursor(last.starts_at, last.id)
    return items, following


# -- scheduling and changing -----------------------------------------------------------------


async def _curriculum_modules(session: AsyncSession, curriculum_id: uuid.UUID) -> list[str]:
    """The module codes of an active curriculum; 422 naming `curriculum_id` otherwise."""
    curriculum = await session.get(Curriculum, curriculum_id)
    if curriculum is None:
        raise InvalidField("curriculum_id", f"no curriculum {curriculum_id}")
    if curriculum.status != ACTIVE_CURRICULUM:
        raise InvalidField("curriculum_id", f"the curriculum is {curriculum.status}, not active")
    codes = await session.scalars(
        select(CurriculumModule.code).where(CurriculumModule.curriculum_id == curriculum_id)
    )
    return list(codes.all())


async def create_session(
    session: AsyncSession, data: SessionCreate, principal: Principal
) -> OrientationSession:
    """Schedule a session at the caller's office and announce it."""
    office_code = check_office(data.office_code.upper())
    require_manager(principal, office_code)
    now = await clock_now(session)
    check_times(data.starts_at, data.ends_at, now)
    check_place(data.outreach, data.district, data.village)
    modules = check_planned_modules(
        data.planned_modules, await _curriculum_modules(session, data.curriculum_id)
    )
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
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(orientation)
    await session.flush()
    await announce(session, orientation, None, reason=None, changed_by=principal.subject)
    return orientation


async def update_session(
    session: AsyncSession,
    session_id: uuid.UUID,
    data: SessionUpdate,
    principal: Principal,
    *,
    expected_version: int | None,
) -> OrientationSession:
    """Change a scheduled session. A change of time, place or language is told to everyone
    enrolled; more places move the waiting list up. 412 on a stale `expected_version`."""
    orientation = await managed_session(session, session_id, principal)
    check_version(orientation.version, expected_version)
    check_scheduled(orientation.status, "a session is changed")
    sent = data.model_dump(exclude_unset=True)
    for field in NOT_NULL:
        if field in sent and sent[field] is None:
            raise InvalidField(field, "cannot be removed")
    current: dict[str, Any] = {f: getattr(orientation, f) for f in CHANGEABLE}
    changes = changed(current, sent)
    if not changes:
        return orientation
    merged = current | changes
    if "starts_at" in changes or "ends_at" in changes:
        now = await clock_now(session)
        check_times(merged["starts_at"], merged["ends_at"], now, new_start="starts_at" in changes)
    check_place(merged["outreach"], merged["district"], merged["village"])
    if "planned_modules" in changes:
        changes["planned_modules"] = check_planned_modules(
            changes["planned_modules"],
            await _curriculum_modules(session, orientation.curriculum_id),
        )
    taken = await places.counts(session, orientation.id)
    if "capacity" in changes:
        check_capacity(changes["capacity"], taken[EnrolmentStatus.ENROLLED])
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
    if (notice := notice_reason(changes)) is not None:
        await places.tell_enrolled(session, orientation, reason=notice, by=by)
    if "capacity" in changes:
        await places.promote(session, orientation, by=by)
    return orientation


async def change_status(
    session: AsyncSession, session_id: uuid.UUID, data: SessionStatusIn, principal: Principal
) -> OrientationSession:
    """scheduled → held (once started) → closed, or scheduled → cancelled with a reason.

    Cancelling cancels every place and turn, each announced; holding it releases the waiting
    list. An invalid change answers 409 with `current_status` and the `allowed` next states.
    """
    orientation = await managed_session(session, session_id, principal)
    current, requested = SessionStatus(orientation.status), SessionStatus(data.status)
    now = await clock_now(session)
    check_status_change(
        current, requested, reason=data.reason, starts_at=orientation.starts_at, now=now
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
    return orientation


# -- enrolment by staff ----------------------------------------------------------------------


async def enrol(
    session: AsyncSession,
    session_id: uuid.UUID,
    person_id: uuid.UUID,
    destination_country: str | None,
    principal: Principal,
) -> Enrolment:
    orientation = await managed_session(session, session_id, principal)
    return await places.enrol(
        session,
        orientation,
        person_id,
        destination_country=destination_country,
        by=principal.subject,
    )


async def cancel_enrolment(
    session: AsyncSession,
    session_id: uuid.UUID,
    enrolment_id: uuid.UUID,
    reason: str,
    principal: Principal,
) -> Enrolment:
    orientation = await managed_session(session, session_id, principal)
    return await places.cancel_by_staff(
        session, orientation, enrolment_id, reason=reason, by=principal.subject
    )
