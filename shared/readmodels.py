"""What every read model of people does alike: lock a person's row, and follow registry's
merges to the record that holds the person now."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Base

MAX_MERGE_HOPS = 5  # merges chain rarely; a bound keeps a bad chain from looping

Row = TypeVar("Row", bound=Base)


async def locked(session: AsyncSession, model: type[Row], person_id: uuid.UUID) -> Row | None:
    """The person's row, locked until the transaction ends."""
    # populate_existing: within a consumer's batch the row may already be in the session, and
    # the database (under our lock) is what counts.
    return await session.get(model, person_id, with_for_update=True, populate_existing=True)


async def locked_following_merges(
    session: AsyncSession, model: type[Row], person_id: uuid.UUID
) -> Row | None:
    """The locked row of the person, or of the record they were merged into (`merged_into`)."""
    row = await locked(session, model, person_id)
    for _ in range(MAX_MERGE_HOPS):
        survivor: Any = getattr(row, "merged_into", None)
        if row is None or survivor is None:
            break
        row = await locked(session, model, survivor)
    return row
