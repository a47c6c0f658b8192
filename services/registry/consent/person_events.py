"""How consent decisions follow a person's merge and erasure (combined in `registry.reactions`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.consent.models import Consent
from services.registry.people.models import Person


async def on_merge(session: AsyncSession, survivor: Person, duplicate: Person) -> list[str]:
    """The duplicate's consent history becomes the survivor's; no field of the person changes."""
    await session.execute(
        update(Consent)
        .where(Consent.person_id == duplicate.id)
        .values(person_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    return []


async def on_erase(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """Every decision the person (or a record merged into theirs) gave goes."""
    await session.execute(delete(Consent).where(Consent.person_id.in_(ids)))
