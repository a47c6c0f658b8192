"""Automatic invitations: a prospective migrant, or someone offered work abroad without a valid
orientation, gets a place in the next session of the nearest office with room.

Whether to invite is decided from the state (a live place or turn, a valid completion), never
from having seen the event, so a redelivered event or a second prospective record invites no
one again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, select

from services.predeparture.completions.models import Completion
from services.predeparture.sessions import enrolment as places
from services.predeparture.sessions.domain import (
    INVITATION_NOTICE,
    LIVE,
    UPCOMING_OR_RUNNING,
    EnrolmentStatus,
    OpenSession,
    SessionStatus,
    invitation_plan,
)
from services.predeparture.sessions.models import Enrolment, OrientationSession
from shared.db import clock_now
from shared.reference.offices import SEED_MRCS

if TYPE_CHECKING:
    import uuid
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql.expression import Exists

SYSTEM = "system"
VALID = "valid"


def has_valid_completion(person_id: Any, destination_country: Any, today: date) -> Exists:
    """SQL condition: the person (an id or a column) holds a completion for the destination
    valid today."""
    return exists().where(
        Completion.person_id == person_id,
        Completion.destination_country == destination_country,
        Completion.status == VALID,
        Completion.valid_until >= today,
    )


def has_live_place(person_id: Any) -> Exists:
    """SQL condition: the person (an id or a column) holds a place or a turn in a session not
    yet closed."""
    return exists().where(
        Enrolment.person_id == person_id,
        Enrolment.status.in_(sorted(LIVE)),
        OrientationSession.id == Enrolment.session_id,
        OrientationSession.status.in_(sorted(UPCOMING_OR_RUNNING)),
    )


async def is_oriented(
    session: AsyncSession, person_id: uuid.UUID, destination_country: str, today: date
) -> bool:
    return bool(
        await session.scalar(select(has_valid_completion(person_id, destination_country, today)))
    )


async def is_on_the_way(session: AsyncSession, person_id: uuid.UUID) -> bool:
    """Already enrolled or waitlisted in a session to come (or being held)."""
    return bool(await session.scalar(select(has_live_place(person_id))))


async def _open_sessions(session: AsyncSession) -> list[OpenSession]:
    """Scheduled sessions of the MRCs starting at least a day from now, with places taken."""
    earliest = await clock_now(session) + INVITATION_NOTICE
    taken = (
        select(func.count())
        .where(
            Enrolment.session_id == OrientationSession.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            OrientationSession.id,
            OrientationSession.office_code,
            OrientationSession.starts_at,
            OrientationSession.capacity,
            taken,
        ).where(
            OrientationSession.status == SessionStatus.SCHEDULED,
            OrientationSession.starts_at >= earliest,
            OrientationSession.office_code.in_(sorted(SEED_MRCS)),
        )
    )
    return [OpenSession(*row) for row in rows]


async def invite(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    province_code: str,
    destination_country: str | None,
    today: date,
) -> Enrolment | None:
    """Enrol the person automatically in the next session of the nearest office with room,
    or on the nearest office's next waiting list when every one is full; None when they are
    oriented for the destination, already on their way, or no session is planned at all."""
    if destination_country and await is_oriented(session, person_id, destination_country, today):
        return None
    if await is_on_the_way(session, person_id):
        return None
    with_room, fallback = invitation_plan(province_code, await _open_sessions(session))
    for candidate in with_room:
        orientation = await places.locked_session(session, candidate.id)
        if orientation.status != SessionStatus.SCHEDULED:
            continue
        enrolled = (await places.counts(session, orientation.id))[EnrolmentStatus.ENROLLED]
        # Counted again under the lock: someone may have taken the last place meanwhile.
        if enrolled < orientation.capacity:
            return await _place(session, orientation, person_id, destination_country)
    if fallback is None:
        return None
    orientation = await places.locked_session(session, fallback.id)
    if orientation.status != SessionStatus.SCHEDULED:
        return None
    return await _place(session, orientation, person_id, destination_country)


async def _place(
    session: AsyncSession,
    orientation: OrientationSession,
    person_id: uuid.UUID,
    destination_country: str | None,
) -> Enrolment:
    return await places.place(
        session,
        orientation,
        person_id,
        destination_country=destination_country,
        automatic=True,
        by=SYSTEM,
    )
