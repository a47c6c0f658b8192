"""Writing and reading predeparture's audit trail, always in the caller's transaction: an
entry is written with the read or change it speaks of, or not at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from services.predeparture.audit.models import AuditEntry
from shared.context import current_request_id
from shared.db import driver_connection

if TYPE_CHECKING:
    import uuid
    from collections.abc import Iterable
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.predeparture.audit.domain import Action, Basis
    from shared.auth import Principal

# Run on the transaction's own connection (shared.db.driver_connection): entries are never read
# back in the request, and the ORM session's path costs more than the insert itself.
_INSERT = (
    "INSERT INTO predeparture_audit_log (person_id, actor, office_code, action, subject_id,"
    " basis, reason, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)
# Several people's entries in one statement, in the order given (their ids in that order).
_INSERT_MANY = (
    "INSERT INTO predeparture_audit_log (person_id, actor, office_code, action, subject_id,"
    " basis, reason, request_id) SELECT person_id, $2::text, $3::text, $4::text, $5::uuid,"
    " $6::text, $7::text, $8::text"
    " FROM unnest($1::uuid[]) WITH ORDINALITY AS entry (person_id, n) ORDER BY n"
)
# A client's X-Request-Id longer than the column must not fail the read it is logged with.
_REQUEST_ID_MAX = 64


async def record(
    session: AsyncSession,
    principal: Principal,
    action: Action,
    person_ids: Iterable[uuid.UUID | None] = (None,),
    *,
    subject_id: uuid.UUID | None = None,
    basis: Basis | None = None,
    reason: str | None = None,
) -> None:
    """One entry per person (or one about no person), in one round trip."""
    common = (
        principal.subject,
        principal.office,
        action.value,
        subject_id,
        basis.value if basis is not None else None,
        reason,
        (current_request_id() or "")[:_REQUEST_ID_MAX] or None,
    )
    people = list(person_ids)
    if len(people) == 1:
        await (await driver_connection(session)).execute(_INSERT, people[0], *common)
    elif people:
        await (await driver_connection(session)).execute(_INSERT_MANY, people, *common)


async def query(
    session: AsyncSession,
    *,
    person_id: uuid.UUID | None,
    subject_id: uuid.UUID | None,
    actor: str | None,
    since: datetime | None,
    before_id: int | None,
    limit: int,
) -> list[AuditEntry]:
    """Entries newest first, by person, session or outreach record, or officer."""
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if person_id is not None:
        statement = statement.where(AuditEntry.person_id == person_id)
    if subject_id is not None:
        statement = statement.where(AuditEntry.subject_id == subject_id)
    if actor is not None:
        statement = statement.where(AuditEntry.actor == actor)
    if since is not None:
        statement = statement.where(AuditEntry.at >= since)
    if before_id is not None:
        statement = statement.where(AuditEntry.id < before_id)
    return list((await session.scalars(statement)).all())
