"""Writing a row that a unique index may refuse because another request wrote its twin first.

The row is added and flushed inside a savepoint, so that the refusal ends only the savepoint and
is answered as the caller's Conflict (a 409 naming the field), instead of a 500 with the whole
transaction aborted. The check before the write (a 409 for the usual case) stays the caller's:
this is for the race between two requests that both passed it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


async def add_unique(session: AsyncSession, *rows: object, conflict: Exception) -> None:
    """Add `rows` (none: flush what is pending) in a savepoint; `conflict` is raised, from the
    IntegrityError, when the database refuses them."""
    try:
        # Added inside the savepoint: `begin_nested` flushes what is pending before it starts,
        # and a conflict met there would abort the whole transaction instead of the savepoint.
        async with session.begin_nested():
            session.add_all(rows)
            await session.flush()
    except IntegrityError as exc:
        raise conflict from exc
