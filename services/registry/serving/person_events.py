"""How the offices serving a person follow their merge and erasure (combined in
`registry.reactions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from services.registry.people.reactions import PersonReaction, delete_rows, move_rows
from services.registry.serving.models import ServiceLink

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.registry.people.models import Person


async def on_merge(session: AsyncSession, survivor: Person, duplicate: Person) -> list[str]:
    """The offices serving the duplicate serve the survivor; an office serving both keeps the
    survivor's link (one per person and office)."""
    await session.execute(
        delete(ServiceLink).where(
            ServiceLink.person_id == duplicate.id,
            ServiceLink.office_code.in_(
                select(ServiceLink.office_code).where(ServiceLink.person_id == survivor.id)
            ),
        )
    )
    await move_rows(session, ServiceLink, duplicate, survivor)
    return []


async def on_erase(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """No office is linked to the person any more."""
    await delete_rows(session, ServiceLink, ids)


REACTION = PersonReaction(on_merge, on_erase)
