"""What a registry feature does on its own tables when a person is merged or erased: the
contract `people/lifecycle.py` runs, in the merge's or erasure's own transaction, for each
reaction `registry/reactions.py` combines; and the two steps most features need."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.people.models import Person

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute

# (session, survivor, duplicate): raise a problem to refuse the merge before anything moves.
MergeCheck = Callable[[AsyncSession, Person, Person], Awaitable[None]]
# (session, survivor, duplicate) -> the survivor's fields that changed (for its PersonUpdated).
MergeReaction = Callable[[AsyncSession, Person, Person], Awaitable[list[str]]]
# (session, the erased person's id and those of every record merged into it)
EraseReaction = Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[None]]


@dataclass(frozen=True)
class PersonReaction:
    """What one feature does on its own tables when a person is merged or erased."""

    on_merge: MergeReaction
    on_erase: EraseReaction
    refuse_merge: MergeCheck | None = None


def _person_id(model: type[Any]) -> InstrumentedAttribute[uuid.UUID]:
    column: InstrumentedAttribute[uuid.UUID] = model.person_id
    return column


async def move_rows(
    session: AsyncSession, model: type[Any], duplicate: Person, survivor: Person
) -> int:
    """Give the duplicate's rows of `model` (keyed by `person_id`) to the survivor; returns how
    many moved."""
    moved = await session.execute(
        update(model)
        .where(_person_id(model) == duplicate.id)
        .values(person_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    return int(moved.rowcount)  # type: ignore[attr-defined]


async def delete_rows(session: AsyncSession, model: type[Any], ids: Sequence[uuid.UUID]) -> None:
    """Delete the rows of `model` of the people `ids`."""
    await session.execute(delete(model).where(_person_id(model).in_(ids)))


def rows_follow_person(model: type[Any]) -> PersonReaction:
    """The reaction of a table whose rows only belong to a person: they move to the survivor of
    a merge (changing none of the person's fields) and go with an erasure."""

    async def on_merge(session: AsyncSession, survivor: Person, duplicate: Person) -> list[str]:
        await move_rows(session, model, duplicate, survivor)
        return []

    async def on_erase(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
        await delete_rows(session, model, ids)

    return PersonReaction(on_merge, on_erase)
