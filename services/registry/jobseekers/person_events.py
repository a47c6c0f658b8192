"""How the jobseeker profile and referral states follow a person's merge and erasure
(combined in `registry.reactions`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.jobseekers.models import JobseekerProfile, Referral
from services.registry.people.models import Person


async def on_merge(session: AsyncSession, survivor: Person, duplicate: Person) -> list[str]:
    """The duplicate's referral states become the survivor's; its profile too, with its status,
    when the survivor has none (otherwise the survivor's profile stands and the duplicate's
    goes). Returns `["jobseeker"]` when the survivor gained a profile."""
    await session.execute(
        update(Referral)
        .where(Referral.person_id == duplicate.id)
        .values(person_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    if await session.get(JobseekerProfile, survivor.id) is not None:
        await session.execute(
            delete(JobseekerProfile).where(JobseekerProfile.person_id == duplicate.id)
        )
        return []
    moved = await session.execute(
        update(JobseekerProfile)
        .where(JobseekerProfile.person_id == duplicate.id)
        .values(person_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        return []
    survivor.jobseeker_status = duplicate.jobseeker_status
    return ["jobseeker"]


async def on_erase(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """The referral states first, then the profile."""
    await session.execute(delete(Referral).where(Referral.person_id.in_(ids)))
    await session.execute(delete(JobseekerProfile).where(JobseekerProfile.person_id.in_(ids)))
