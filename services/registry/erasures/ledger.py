"""Writing the erasure ledger: a row in registry's `erasure_ledger` and an `ErasureRecorded` on
`registry.erasures`, in the erasure's own transaction, one per id erased."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy.dialects.postgresql import insert

from services.registry.erasures.models import ErasureLedgerEntry
from shared.outbox import add_event

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.events.registry import ErasureRecorded

_INSERT = insert(cast("Table", ErasureLedgerEntry.__table__)).on_conflict_do_nothing()


async def keep(session: AsyncSession, entry: ErasureRecorded) -> None:
    """The entry in registry's table (once: an entry re-applied after a restore is kept again)."""
    await session.execute(
        _INSERT,
        {
            "person_id": entry.person_id,
            "erased_at": entry.erased_at,
            "basis": entry.basis,
            "survivor_id": entry.survivor_id,
            "cause_event_id": entry.cause_event_id,
        },
    )


async def record(session: AsyncSession, entry: ErasureRecorded) -> None:
    """The entry kept and published (the ledger topic outlives any backup of this database)."""
    await keep(session, entry)
    await add_event(session, entry)
