"""How migration records follow a person's merge and erasure (combined in
`registry.reactions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from services.registry.migration_records.domain import MigrationStatus
from services.registry.migration_records.models import MigrationRecord
from services.registry.people.reactions import PersonReaction, delete_rows, move_rows
from shared.problems import Conflict

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.registry.people.models import Person

_CLOSED = (MigrationStatus.RETURNED.value, MigrationStatus.CANCELLED.value)


async def refuse_merge(session: AsyncSession, survivor: Person, duplicate: Person) -> None:
    """A person has at most one open migration record: two open ones cannot be folded into one."""
    open_records = await session.scalar(
        select(func.count())
        .select_from(MigrationRecord)
        .where(
            MigrationRecord.person_id.in_([survivor.id, duplicate.id]),
            MigrationRecord.status.not_in(_CLOSED),
        )
    )
    if (open_records or 0) > 1:
        raise Conflict("both records have an open migration record; close one first")


async def on_merge(session: AsyncSession, survivor: Person, duplicate: Person) -> list[str]:
    """The duplicate's records become the survivor's, and so does its migration status when the
    survivor had none (at most one of the two has an open record: `refuse_merge`)."""
    await move_rows(session, MigrationRecord, duplicate, survivor)
    if survivor.migration_status is None and duplicate.migration_status is not None:
        survivor.migration_status = duplicate.migration_status
    return []


async def on_erase(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """Every record of the person's stays abroad goes."""
    await delete_rows(session, MigrationRecord, ids)


REACTION = PersonReaction(on_merge, on_erase, refuse_merge)
