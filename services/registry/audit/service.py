"""Writing and reading the audit trail, always in the caller's transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from services.registry.audit.models import AuditEntry
from services.registry.scope import default_basis
from shared.context import current_request_id
from shared.db import driver_connection

if TYPE_CHECKING:
    import uuid
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.registry.audit.domain import Action
    from shared.auth import Principal

# Run on the transaction's own connection (shared.db.driver_connection): entries are never read
# back in the request, and the ORM session's path costs more than the insert itself.
_INSERT = (
    "INSERT INTO audit_log (person_id, actor, office_code, action, fields, reason, request_id,"
    " basis) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)
# Several people's entries, in the order given (their ids in that order).
_INSERT_MANY = (
    "INSERT INTO audit_log (person_id, basis, actor, office_code, action, fields, reason,"
    " request_id) SELECT person_id, basis, $3::text, $4::text, $5::text, $6::text[], $7::text,"
    " $8::text"
    " FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS entry (person_id, basis, n)"
    " ORDER BY n"
)
# The request id comes from the client's X-Request-Id header when it sends one; a longer one
# than the column holds must not fail the read or change it would be logged with.
_REQUEST_ID_MAX = 64
# What `entry` gives: every column a writer sets but the person's id (`_INSERT`'s order).
ENTRY_COLUMNS = ("actor", "office_code", "action", "fields", "reason", "request_id", "basis")
# session.info key: person id → the basis on which the acting office reached the person in this
# transaction (people.records.get_person notes it), so every entry about them names it.
ACCESS = "registry.access_basis"


def note_access(session: AsyncSession, person_id: uuid.UUID, basis: str) -> None:
    """Remember on what basis the principal reached `person_id` in this transaction."""
    session.info.setdefault(ACCESS, {})[person_id] = basis


async def record(
    session: AsyncSession,
    principal: Principal,
    action: Action,
    person_ids: Iterable[uuid.UUID | None],
    *,
    fields: Sequence[str] = (),
    reason: str | None = None,
    basis: str | None = None,
) -> None:
    """Log `action` on each person, in the same transaction as the read or change itself.

    Logged with the data it speaks of: a change that rolls back leaves no entry, and no read
    reaches the caller without one. The basis is `basis`, else the one noted when the person
    was reached in this transaction, else the principal's own scope.
    """
    noted: dict[uuid.UUID | None, str] = session.info.get(ACCESS, {})
    people = list(person_ids)
    if len(people) == 1:
        row = _values(principal, action, fields, reason, basis or noted.get(people[0]))
        await (await driver_connection(session)).execute(_INSERT, people[0], *row)
    elif people:
        # One statement for them all, as one entry: only the person and the basis differ.
        *common, _ = _values(principal, action, fields, reason, None)
        bases = [basis or noted.get(p) or default_basis(principal) for p in people]
        await (await driver_connection(session)).execute(_INSERT_MANY, people, bases, *common)


def _values(
    principal: Principal,
    action: Action,
    fields: Sequence[str],
    reason: str | None,
    basis: str | None,
) -> tuple[Any, ...]:
    """An entry's values but the person's id, in the order of ENTRY_COLUMNS."""
    return (
        principal.subject,
        principal.office,
        action.value,
        list(fields),
        reason,
        (current_request_id() or "")[:_REQUEST_ID_MAX] or None,
        basis or default_basis(principal),
    )


def entry(
    principal: Principal,
    action: Action,
    *,
    fields: Sequence[str] = (),
    reason: str | None = None,
    basis: str | None = None,
) -> dict[str, Any]:
    """An entry's values but the person's id, for a statement that writes it with the change
    (`record` is the usual way)."""
    return dict(zip(ENTRY_COLUMNS, _values(principal, action, fields, reason, basis), strict=True))


async def query(
    session: AsyncSession,
    *,
    person_id: uuid.UUID | None,
    actor: str | None,
    before_id: int | None,
    since: datetime | None,
    limit: int,
) -> list[AuditEntry]:
    """Entries newest first, by person or by officer, paged by entry id."""
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if person_id is not None:
        statement = statement.where(AuditEntry.person_id == person_id)
    if actor is not None:
        statement = statement.where(AuditEntry.actor == actor)
    if before_id is not None:
        statement = statement.where(AuditEntry.id < before_id)
    if since is not None:
        statement = statement.where(AuditEntry.at >= since)
    return list((await session.scalars(statement)).all())
