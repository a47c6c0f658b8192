"""Consent operations: each decision is a new row and a ConsentChanged event, in one transaction."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import distinct_on

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.consent.domain import (
    ConsentStatus,
    Scope,
    check_decision,
    effective_status,
)
from services.registry.consent.models import Consent
from services.registry.consent.schemas import ConsentDecisionIn, ConsentRead
from services.registry.people.records import get_person
from shared import clock
from shared.auth import Principal, Role
from shared.events.registry import ConsentChanged
from shared.outbox import add_event
from shared.problems import Forbidden

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession


def _read(row: Consent, today: date) -> ConsentRead:
    recorded = ConsentStatus(row.status)
    return ConsentRead.model_validate(
        {
            **{c: getattr(row, c) for c in ConsentRead.model_fields if hasattr(row, c)},
            "status": effective_status(recorded, row.expires_on, today),
            "recorded_status": recorded,
        }
    )


async def _current_status(
    session: AsyncSession,
    person_id: uuid.UUID,
    data: ConsentDecisionIn,
    scope: Scope,
    today: date,
) -> ConsentStatus | None:
    """The effective status of the latest decision for this purpose and scope, if any."""
    latest = await session.scalar(
        select(Consent)
        .where(
            Consent.person_id == person_id,
            Consent.purpose == data.purpose,
            Consent.scope_key == scope.key(),
        )
        .order_by(Consent.recorded_at.desc())
        .limit(1)
    )
    return (
        effective_status(ConsentStatus(latest.status), latest.expires_on, today) if latest else None
    )


async def _insert_decision(
    session: AsyncSession,
    person_id: uuid.UUID,
    data: ConsentDecisionIn,
    scope: Scope,
    new: ConsentStatus,
    principal: Principal,
) -> Consent:
    """Write the decision as a new row and return it."""
    # clock_timestamp(), not now(): under the person's lock it orders decisions by when they
    # were written, while now() is when each transaction began.
    row: Consent | None = await session.scalar(
        insert(Consent)
        .values(
            id=uuid.uuid4(),
            person_id=person_id,
            purpose=data.purpose,
            scope_key=scope.key(),
            agency=scope.agency,
            category=scope.category,
            status=new,
            method=data.method,
            witness_name=data.witness_name,
            expires_on=data.expires_on,
            note=data.note,
            recorded_by=principal.subject,
            office_code=principal.office,
            recorded_at=func.clock_timestamp(),
        )
        .returning(Consent)
    )
    assert row is not None
    return row


def _changed_event(person_id: uuid.UUID, data: ConsentDecisionIn, row: Consent) -> ConsentChanged:
    """The ConsentChanged event announcing the recorded row."""
    return ConsentChanged(
        person_id=person_id,
        consent_id=row.id,
        purpose=data.purpose.value,
        agency=row.agency,
        category=row.category,
        status=data.status,
        expires_on=row.expires_on,
        method=data.method.value,
        recorded_by=row.recorded_by,
        office_code=row.office_code,
        recorded_at=row.recorded_at,
    )


async def record_decision(
    session: AsyncSession,
    person_id: uuid.UUID,
    data: ConsentDecisionIn,
    principal: Principal,
    *,
    today: date | None = None,
) -> ConsentRead:
    """Record a person's decision for one purpose and announce it."""
    today = today or clock.today()
    # A merged-away id leads to the survivor: the decision is recorded on the kept record.
    person_id = (await get_person(session, person_id, principal, lock=True)).id
    new = ConsentStatus(data.status)
    if new is ConsentStatus.INVALIDATED and Role.ADMIN not in principal.roles:
        raise Forbidden("only an admin can invalidate a consent record")
    scope = Scope(agency=data.scope.agency, category=data.scope.category)
    current = await _current_status(session, person_id, data, scope, today)
    check_decision(
        current,
        new,
        purpose=data.purpose,
        scope=scope,
        method=data.method,
        witness=data.witness_name,
        expires_on=data.expires_on,
        today=today,
    )
    row = await _insert_decision(session, person_id, data, scope, new, principal)
    await audit.record(
        session, principal, Action.CONSENT_RECORDED, [person_id], fields=[data.purpose.value]
    )
    await add_event(session, _changed_event(person_id, data, row))
    return _read(row, today)


async def list_consents(
    session: AsyncSession,
    person_id: uuid.UUID,
    principal: Principal,
    *,
    history: bool = False,
    today: date | None = None,
) -> list[ConsentRead]:
    """The decision in force per purpose and scope, or every decision newest first."""
    today = today or clock.today()
    person_id = (await get_person(session, person_id, principal)).id
    await audit.record(session, principal, Action.CONSENTS_READ, [person_id])
    query = select(Consent).where(Consent.person_id == person_id)
    if history:
        query = query.order_by(Consent.recorded_at.desc())
    else:
        query = query.ext(distinct_on(Consent.purpose, Consent.scope_key)).order_by(
            Consent.purpose, Consent.scope_key, Consent.recorded_at.desc()
        )
    rows = (await session.scalars(query)).all()
    return [_read(row, today) for row in rows]
