"""How the jobseeker profile and referral states follow a person's merge and erasure
(combined in `registry.reactions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete

from services.registry.jobseekers.models import JobseekerProfile, Referral
from services.registry.people.reactions import PersonReaction, delete_rows, move_rows

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.registry.people.models import Person


async def on_merge(session: AsyncSession, survivor: Person, duplicate: Person) -> list[str]:
    """The duplicate's referral states become the survivor's; its profile too, with its status,
    when the survivor has none (otherwise the survivor's profile stands and the duplicate's
    goes). Returns `["jobseeker"]` when the survivor gained a profile."""
    await move_rows(session, Referral, duplicate, survivor)
    if await session.get(JobseekerProfile, survivor.id) is not None:
        await session.execute(
            delete(JobseekerProfile).where(JobseekerProfile.person_id == duplicate.id)
        )
        return []
    if not await move_rows(session, JobseekerProfile, duplicate, survivor):
        return []
    survivor.jobseeker_status = duplicate.jobseeker_status
    return ["jobseeker"]


async def on_erase(session: AsyncSession, ids: Sequence[uuid.UUID]) -> None:
    """The referral states first, then the profile."""
    await delete_rows(session, Referral, ids)
    await delete_rows(session, JobseekerProfile, ids)


REACTION = PersonReaction(on_merge, on_erase)
