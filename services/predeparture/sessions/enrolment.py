"""Places in sessions and their waiting lists: each change and its EnrolmentChanged event.

Every change of a session's places runs under the session's row lock, so that counting the
places taken and taking one are a single step: capacity holds however many staff (and the
invitation consumer) enrol at once.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from services.predeparture.learners.models import Learner
from services.predeparture.sessions.domain import (
    LIVE,
    EnrolmentStatus,
    SessionStatus,
    check_scheduled,
    status_for_new,
)
from services.predeparture.sessions.models import Enrolment, OrientationSession
from shared.db import clock_now
from shared.events.predeparture import EnrolmentChanged
from shared.outbox import add_event
from shared.problems import Conflict, NotFound

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

PROMOTED = "a place became free"


class AlreadyEnrolled(Conflict):
    slug, title = "already-enrolled", "Already enrolled"


async def locked_session(session: AsyncSession, session_id: uuid.UUID) -> OrientationSession:
    """The session's row, held until the transaction ends; 404 when unknown."""
    found = await session.get(
        OrientationSession, session_id, with_for_update=True, populate_existing=True
    )
    if found is None:
        raise NotFound(f"no orientation session {session_id}", field="session_id")
    return found


async def counts(session: AsyncSession, session_id: uuid.UUID) -> dict[str, int]:
    """How many hold a place and how many wait for one."""
    rows = await session.execute(
        select(Enrolment.status, func.count())
        .where(Enrolment.session_id == session_id, Enrolment.status.in_(sorted(LIVE)))
        .group_by(Enrolment.status)
    )
    found = {str(status): int(n) for status, n in rows}
    return {s: found.get(s, 0) for s in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED)}


def _changed(
    orientation: OrientationSession,
    enrolment: Enrolment,
    *,
    previous: str | None,
    reason: str | None,
    by: str,
    at: datetime,
) -> EnrolmentChanged:
    """The enrolment's EnrolmentChanged, with the session as it now is."""
    return EnrolmentChanged(
        enrolment_id=enrolment.id,
        session_id=orientation.id,
        person_id=enrolment.person_id,
        status=enrolment.status,
        previous_status=previous,
        automatic=enrolment.automatic,
        reason=reason,
        office_code=orientation.office_code,
        starts_at=orientation.starts_at,
        venue=orientation.venue,
        language=orientation.language,
        changed_by=by,
        changed_at=at,
        entered_late=orientation.entered_late,
    )


async def announce(
    session: AsyncSession,
    orientation: OrientationSession,
    enrolment: Enrolment,
    previous: str | None,
    *,
    changed_by: str,
) -> None:
    """Stage the enrolment's EnrolmentChanged: its status and reason now, what it was before."""
    changed = _changed(
        orientation,
        enrolment,
        previous=previous,
        reason=enrolment.reason,
        by=changed_by,
        at=enrolment.updated_at,
    )
    await add_event(session, changed)


async def live_enrolment(
    session: AsyncSession, session_id: uuid.UUID, person_id: uuid.UUID
) -> Enrolment | None:
    return await session.scalar(
        select(Enrolment)
        .where(
            Enrolment.session_id == session_id,
            Enrolment.person_id == person_id,
            Enrolment.status.in_(sorted(LIVE)),
        )
        # The database's row, not a copy an earlier event of the same batch left in the session.
        .execution_options(populate_existing=True)
    )


async def place(
    session: AsyncSession,
    orientation: OrientationSession,
    person_id: uuid.UUID,
    *,
    destination_country: str | None,
    automatic: bool,
    by: str,
    waitlist_only: bool = False,
) -> Enrolment:
    """Give the person a place in the (locked, scheduled) session, or the end of its waiting
    list when it is full, and announce it. The caller checked they hold no live one."""
    taken = await counts(session, orientation.id)
    status = status_for_new(taken[EnrolmentStatus.ENROLLED], orientation.capacity)
    if waitlist_only:
        status = EnrolmentStatus.WAITLISTED
    at = await clock_now(session)
    enrolment = Enrolment(
        id=uuid.uuid4(),
        session_id=orientation.id,
        person_id=person_id,
        status=status,
        automatic=automatic,
        destination_country=destination_country,
        reason=None,
        created_by=by,
        created_at=at,
        updated_at=at,
    )
    session.add(enrolment)
    await session.flush()
    await announce(session, orientation, enrolment, None, changed_by=by)
    return enrolment


async def enrol(
    session: AsyncSession,
    orientation: OrientationSession,
    person_id: uuid.UUID,
    *,
    destination_country: str | None,
    by: str,
) -> Enrolment:
    """Staff enrol a learner in a (locked) session: a place while there is room, else the
    waiting list. 404 naming `person_id` for someone predeparture does not know; 409 when
    they already hold a place or a turn in this session, or the session is not scheduled."""
    check_scheduled(orientation.status, "people are enrolled")
    learner = await session.get(Learner, person_id)
    if learner is None:
        raise NotFound(f"no learner {person_id}", field="person_id")
    if learner.merged_into is not None:
        raise NotFound(
            f"{person_id} was merged into {learner.merged_into}: enrol that record",
            field="person_id",
            merged_into=str(learner.merged_into),
        )
    existing = await live_enrolment(session, orientation.id, person_id)
    if existing is not None:
        raise AlreadyEnrolled(
            f"the person is already {existing.status} in this session",
            field="person_id",
            enrolment_id=str(existing.id),
            current_status=existing.status,
        )
    return await place(
        session,
        orientation,
        person_id,
        destination_country=destination_country or learner.destination_country,
        automatic=False,
        by=by,
    )


async def _set_status(
    session: AsyncSession,
    orientation: OrientationSession,
    enrolment: Enrolment,
    status: EnrolmentStatus,
    *,
    reason: str | None,
    by: str,
    at: datetime,
) -> None:
    previous = enrolment.status
    enrolment.status = status
    enrolment.reason = reason
    enrolment.updated_at = at
    await session.flush()
    await announce(session, orientation, enrolment, previous, changed_by=by)


async def _set_all(
    session: AsyncSession,
    orientation: OrientationSession,
    enrolments: Sequence[Enrolment],
    status: EnrolmentStatus,
    *,
    reason: str,
    by: str,
) -> int:
    """Move each of the (locked) enrolments to `status` at one time, each announced."""
    at = await clock_now(session)
    for enrolment in enrolments:
        await _set_status(session, orientation, enrolment, status, reason=reason, by=by, at=at)
    return len(enrolments)


async def _locked(
    session: AsyncSession,
    orientation: OrientationSession,
    statuses: Collection[EnrolmentStatus],
    *,
    limit: int | None = None,
) -> Sequence[Enrolment]:
    """The session's enrolments in `statuses`, oldest first (at most `limit`), locked."""
    return (
        await session.scalars(
            select(Enrolment)
            .where(Enrolment.session_id == orientation.id, Enrolment.status.in_(sorted(statuses)))
            .order_by(Enrolment.created_at, Enrolment.id)
            .limit(limit)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()


async def promote(session: AsyncSession, orientation: OrientationSession, *, by: str) -> int:
    """Move the oldest waitlisted people up into the (locked) session's free places."""
    if orientation.status != SessionStatus.SCHEDULED:
        return 0
    free = orientation.capacity - (await counts(session, orientation.id))[EnrolmentStatus.ENROLLED]
    if free <= 0:
        return 0
    waiting = await _locked(session, orientation, {EnrolmentStatus.WAITLISTED}, limit=free)
    return await _set_all(
        session, orientation, waiting, EnrolmentStatus.ENROLLED, reason=PROMOTED, by=by
    )


async def cancel(
    session: AsyncSession,
    orientation: OrientationSession,
    enrolment: Enrolment,
    *,
    reason: str,
    by: str,
) -> Enrolment:
    """Cancel a live place or turn in the (locked) session; a freed place goes to the oldest
    on the waiting list. Each change announced."""
    held_place = enrolment.status == EnrolmentStatus.ENROLLED
    await _set_status(
        session,
        orientation,
        enrolment,
        EnrolmentStatus.CANCELLED,
        reason=reason,
        by=by,
        at=await clock_now(session),
    )
    if held_place:
        await promote(session, orientation, by=by)
    return enrolment


async def get_enrolment(
    session: AsyncSession, orientation: OrientationSession, enrolment_id: uuid.UUID
) -> Enrolment:
    enrolment = await session.get(
        Enrolment, enrolment_id, with_for_update=True, populate_existing=True
    )
    if enrolment is None or enrolment.session_id != orientation.id:
        raise NotFound(
            f"no enrolment {enrolment_id} in session {orientation.id}", field="enrolment_id"
        )
    return enrolment


async def cancel_by_staff(
    session: AsyncSession,
    orientation: OrientationSession,
    enrolment_id: uuid.UUID,
    *,
    reason: str,
    by: str,
) -> Enrolment:
    """Staff cancel a place or turn (the person cannot come, or asked to leave the list)."""
    check_scheduled(orientation.status, "places are cancelled")
    enrolment = await get_enrolment(session, orientation, enrolment_id)
    if enrolment.status not in LIVE:
        raise Conflict(
            "this enrolment is already cancelled",
            field="enrolment_id",
            current_status=enrolment.status,
        )
    return await cancel(session, orientation, enrolment, reason=reason, by=by)


async def cancel_all(
    session: AsyncSession,
    orientation: OrientationSession,
    statuses: frozenset[EnrolmentStatus],
    *,
    reason: str,
    by: str,
) -> int:
    """Cancel every enrolment of the (locked) session in `statuses`, each announced."""
    live = await _locked(session, orientation, statuses)
    return await _set_all(
        session, orientation, live, EnrolmentStatus.CANCELLED, reason=reason, by=by
    )


async def tell_enrolled(
    session: AsyncSession, orientation: OrientationSession, *, reason: str, by: str
) -> int:
    """Announce a change of the session to everyone holding a place (their status stays);
    the waiting list learns the session as it then is when they move up."""
    enrolled = (
        await session.scalars(
            select(Enrolment)
            .where(
                Enrolment.session_id == orientation.id,
                Enrolment.status == EnrolmentStatus.ENROLLED,
            )
            .order_by(Enrolment.created_at, Enrolment.id)
        )
    ).all()
    at = await clock_now(session)
    for enrolment in enrolled:
        # Their status stays: the event tells the session's change, with its reason.
        same = enrolment.status
        await add_event(
            session, _changed(orientation, enrolment, previous=same, reason=reason, by=by, at=at)
        )
    return len(enrolled)
