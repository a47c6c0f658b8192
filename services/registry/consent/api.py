"""HTTP routes for a person's consent decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.consent import service
from services.registry.consent.schemas import ConsentDecisionIn, ConsentList, ConsentRead
from services.registry.keys.api import PublishingNoted
from services.registry.offices.api import Staff
from services.registry.people.deps import PersonId
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent

# Person events this router's requests publish go out as the settings say (keys/service.py).
router = APIRouter(
    prefix="/v1/people/{person_id}/consents", tags=["consent"], dependencies=[PublishingNoted]
)


@router.post("", status_code=201, response_model=ConsentRead)
@idempotent
async def record_consent(
    person_id: PersonId,
    body: ConsentDecisionIn,
    session: SessionDep,
    principal: Staff,
) -> Answer[ConsentRead]:
    """Record the person's decision (give, refuse, withdraw, renew) for one purpose.

    Withdrawal is possible at any time for a consent in force. Verbal and thumbprint consent
    need `witness_name`. Only an admin may record `invalidated`.
    """
    consent = await service.record_decision(session, person_id, body, principal)
    return Answer(201, consent)


@router.get("", response_model=ConsentList)
async def list_consents(
    person_id: PersonId,
    session: SessionDep,
    principal: Staff,
    history: Annotated[bool, Query(description="every decision, newest first")] = False,
) -> ConsentList:
    """The decisions in force (status `expired` once past `expires_on`), or the whole history."""
    items = await service.list_consents(session, person_id, principal, history=history)
    return ConsentList(items=items)
