"""Writing and reading predeparture's audit trail, always in the caller's transaction: an
entry is written with the read or change it speaks of, or not at all."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, insert, select

from services.predeparture.audit.models import AuditEntry
from shared.context import current_request_id

if TYPE_CHECKING:
    import uuid
    from collections.abc import Iterable
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.predeparture.audit.domain import Action, Basis
    from shared.auth import Principal

_INSERT = insert(cast("Table", AuditEntry.__table__))
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
    """One entry per person (or one about no person), in one statement."""
    common = {
        "actor": principal.subject,
        "office_code": principal.office,
        "action": action.value,
        "subject_id": subject_id,
        "basis": basis.value if basis is not None else None,
        "reason": reason,
        "request_id": (current_request_id() or "")[:_REQUEST_ID_MAX] or None,
    }
    rows = [{"person_id": person_id, **common} for person_id in person_ids]
    if rows:
        await session.execute(_INSERT, rows)


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
