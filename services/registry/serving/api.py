"""HTTP routes for serving a person of another province: a visit here, or taking them over."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.keys.api import PublishingNoted
from services.registry.offices.api import Staff
from services.registry.people import records as people
from services.registry.people.deps import PersonId
from services.registry.people.schemas import PersonRead
from services.registry.serving import service
from services.registry.serving.schemas import TransferIn, VisitIn, VisitRead
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent

# Person events this router's requests publish go out as the settings say (keys/service.py).
router = APIRouter(
    prefix="/v1/people/{person_id}", tags=["serving"], dependencies=[PublishingNoted]
)


@router.post(
    "/visits", status_code=201, response_model=VisitRead, responses={200: {"model": VisitRead}}
)
@idempotent
async def record_visit(
    person_id: PersonId,
    body: VisitIn,
    session: SessionDep,
    principal: Staff,
) -> Answer[VisitRead]:
    """The person came to your office for a service: your office serves them from now on.

    For a person of another province (found by reference, phone or document number, or named
    by a duplicate warning) this links your office to them: your staff then read and act on
    their records as their own province's staff do, every access audited, and every service
    is told (`PersonServedAt`). 201 when the visit made the link; 200 when your office served
    them already.
    """
    visit, linked_now = await service.record_visit(
        session, person_id, principal, reason=body.reason
    )
    return Answer(201 if linked_now else 200, visit)


@router.post("/transfer", response_model=PersonRead)
@idempotent
async def transfer(
    person_id: PersonId,
    body: TransferIn,
    session: SessionDep,
    principal: Staff,
) -> Answer[PersonRead]:
    """The person moved to your province: their record moves to your office and province.

    Audited with your reason and announced to every service (`PersonUpdated`, with
    `province_code` and `office_code` in `changed_fields`). 409 when the record is at your
    office already.
    """
    person = await service.transfer(session, person_id, principal, reason=body.reason)
    return Answer(200, await people.to_read(session, person))
