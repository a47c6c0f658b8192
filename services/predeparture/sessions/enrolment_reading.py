"""Enrolments as the API shows them: a session's roster (its places and waiting list, each in
the order taken) and one enrolment with its place in the waiting list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, tuple_

from services.predeparture.learners.models import Learner
from services.predeparture.sessions.domain import LIVE, EnrolmentStatus, SessionStatus
from services.predeparture.sessions.models import Enrolment, OrientationSession
from services.predeparture.sessions.schemas import EnrolmentRead, Roster

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


async def roster(session: AsyncSession, orientation: OrientationSession) -> Roster:
    """The session's places and its waiting list, each in the order they were taken."""
    rows = (
        await session.execute(
            select(Enrolment, Learner.reference, Learner.initials)
            .outerjoin(Learner, Learner.person_id == Enrolment.person_id)
            .where(Enrolment.session_id == orientation.id, Enrolment.status.in_(sorted(LIVE)))
            .order_by(Enrolment.created_at, Enrolment.id)
        )
    ).all()
    enrolled: list[EnrolmentRead] = []
    waitlisted: list[EnrolmentRead] = []
    for enrolment, reference, initials in rows:
        waiting = enrolment.status == EnrolmentStatus.WAITLISTED
        read = to_read(
            enrolment,
            reference=reference,
            initials=initials,
            position=len(waitlisted) + 1 if waiting else None,
        )
        (waitlisted if waiting else enrolled).append(read)
    return Roster(
        session_id=orientation.id,
        status=SessionStatus(orientation.status),
        capacity=orientation.capacity,
        enrolled=enrolled,
        waitlisted=waitlisted,
    )


def to_read(
    enrolment: Enrolment,
    *,
    reference: str | None,
    initials: str | None,
    position: int | None = None,
) -> EnrolmentRead:
    return EnrolmentRead(
        id=enrolment.id,
        session_id=enrolment.session_id,
        person_id=enrolment.person_id,
        reference=reference,
        initials=initials,
        status=EnrolmentStatus(enrolment.status),
        automatic=enrolment.automatic,
        destination_country=enrolment.destination_country,
        reason=enrolment.reason,
        waitlist_position=position,
        created_by=enrolment.created_by,
        created_at=enrolment.created_at,
        updated_at=enrolment.updated_at,
    )


async def read_one(session: AsyncSession, enrolment: Enrolment) -> EnrolmentRead:
    """An enrolment with the learner's reference, initials and place in the waiting list."""
    learner = await session.get(Learner, enrolment.person_id)
    position = None
    if enrolment.status == EnrolmentStatus.WAITLISTED:
        ahead = await session.scalar(
            select(func.count()).where(
                Enrolment.session_id == enrolment.session_id,
                Enrolment.status == EnrolmentStatus.WAITLISTED,
                tuple_(Enrolment.created_at, Enrolment.id)
                < tuple_(enrolment.created_at, enrolment.id),
            )
        )
        position = int(ahead or 0) + 1
    return to_read(
        enrolment,
        reference=learner.reference if learner else None,
        initials=learner.initials if learner else None,
        position=position,
    )
