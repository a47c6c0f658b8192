"""Enrolment by staff: an officer enrols a person they serve, or cancels a place or turn; each
audited, naming the acting office."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.predeparture.audit import service as audit
from services.predeparture.audit.domain import Action
from services.predeparture.learners.models import Learner
from services.predeparture.scope import basis_of, can_manage, require_person
from services.predeparture.sessions import enrolment as places
from services.predeparture.sessions.domain import check_scheduled
from services.predeparture.sessions.service import readable_session

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.predeparture.sessions.models import Enrolment
    from shared.auth import Principal


async def enrol(
    session: AsyncSession,
    session_id: uuid.UUID,
    person_id: uuid.UUID,
    destination_country: str | None,
    principal: Principal,
) -> Enrolment:
    """An officer of any office enrols a person they serve in a scheduled session (sessions
    are national once published); the enrolment is audited, naming the acting office."""
    orientation = await readable_session(session, session_id, principal, lock=True)
    check_scheduled(orientation.status, "people are enrolled")
    learner = await session.get(Learner, person_id)
    if learner is not None and learner.merged_into is None:
        await require_person(session, principal, person_id, learner.province_code)
    enrolment = await places.enrol(
        session,
        orientation,
        person_id,
        destination_country=destination_country,
        by=principal.subject,
    )
    await audit.record(
        session,
        principal,
        Action.ENROLLED,
        [person_id],
        subject_id=orientation.id,
        basis=basis_of(principal, learner.province_code if learner else None),
    )
    return enrolment


async def cancel_enrolment(
    session: AsyncSession,
    session_id: uuid.UUID,
    enrolment_id: uuid.UUID,
    reason: str,
    principal: Principal,
) -> Enrolment:
    """The session's office cancels any place or turn; another office's officer those of the
    people they serve (someone they enrolled who cannot come)."""
    orientation = await readable_session(session, session_id, principal, lock=True)
    if not can_manage(principal, orientation.office_code):
        check_scheduled(orientation.status, "places are cancelled")
        enrolment = await places.get_enrolment(session, orientation, enrolment_id)
        learner = await session.get(Learner, enrolment.person_id)
        await require_person(
            session, principal, enrolment.person_id, learner.province_code if learner else None
        )
    cancelled = await places.cancel_by_staff(
        session, orientation, enrolment_id, reason=reason, by=principal.subject
    )
    await audit.record(
        session,
        principal,
        Action.ENROLMENT_CANCELLED,
        [cancelled.person_id],
        subject_id=orientation.id,
    )
    return cancelled
