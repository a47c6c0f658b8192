"""How imported CSV rows follow a person's merge and erasure (combined in
`registry.reactions`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.imports.models import ImportedRow
from services.registry.people.models import Person


async def on_merge(session: AsyncSession, survivor: Person, duplicate: Person) -> list[str]:
    """A row that created or matched the duplicate now leads to the survivor."""
    await session.execute(
        update(ImportedRow)
        .where(ImportedRow.person_id == duplicate.id)
        .values(person_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    return []


async def on_erase(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """The rows the person came in with go."""
    await session.execute(delete(ImportedRow).where(ImportedRow.person_id.in_(ids)))
