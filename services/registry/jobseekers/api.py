"""HTTP routes for a jobseeker's status, changed by officers."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.jobseekers import service
from services.registry.jobseekers.domain import JobseekerStatus
from services.registry.jobseekers.models import JobseekerProfile
from services.registry.jobseekers.schemas import StatusChange, StatusRead
from services.registry.keys.api import PublishingNoted
from services.registry.offices.api import Staff
from services.registry.people.deps import PersonId
from services.registry.people.records import get_person
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent
from shared.problems import NotFound

# Person events this router's requests publish go out as the settings say (keys/service.py).
router = APIRouter(
    prefix="/v1/people/{person_id}/jobseeker", tags=["jobseekers"], dependencies=[PublishingNoted]
)


@router.post("/status", response_model=StatusRead)
@idempotent
async def change_status(
    person_id: PersonId,
    body: StatusChange,
    session: SessionDep,
    principal: Staff,
) -> Answer[StatusRead]:
    """Move the jobseeker to another status; 409 names the current one when not allowed.

    Referrals move it too: matching's referral events set `referred` and `placed`, and back to
    `active` when the last open referral closes.
    """
    person = await get_person(session, person_id, principal, lock=True)
    profile = await session.get(JobseekerProfile, person.id, with_for_update=True)
    if profile is None:
        raise NotFound(f"person {person_id} is not registered as a jobseeker")
    await service.change_status(
        session, profile, body.status, reason=body.reason, changed_by=principal.subject
    )
    await audit.record(
        session,
        principal,
        Action.JOBSEEKER_STATUS_CHANGED,
        [person.id],
        fields=["status"],
        reason=body.reason,
    )
    answer = StatusRead(
        status=JobseekerStatus(profile.status),
        status_reason=profile.status_reason,
        status_changed_at=profile.status_changed_at,
    )
    return Answer(200, answer)
