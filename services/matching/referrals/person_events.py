"""How referrals and placements react to registry's merge and erasure of a person.

The duplicate's referrals and placements follow the survivor (`repoint_merged_person`); an
erased person's keep no free text about them (`forget_person`). Matching's app.py runs these
after the candidate read model's own reaction, in the same transaction as the event's inbox
row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update

from services.matching.referrals.domain import OPEN, ReferralStatus
from services.matching.referrals.models import Placement, Referral, ReferralStatusChange
from services.matching.referrals.service import move
from shared import readmodels
from shared.db import clock_now
from shared.readmodels import person_reactions

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.consumer import Handler

SYSTEM = "system"


async def repoint_merged_person(
    session: AsyncSession, merged: uuid.UUID, survivor: uuid.UUID
) -> None:
    """A merge in registry: referrals and placements follow the surviving record.

    An open referral the survivor already has to the same vacancy wins; the duplicate's is
    withdrawn (recorded and announced) rather than moved, so one open referral per person and
    vacancy keeps holding. Applying the same merge again changes nothing.
    """
    open_states = [s.value for s in OPEN]
    clashing = (
        await session.scalars(
            select(Referral)
            .where(
                Referral.person_id == merged,
                Referral.status.in_(open_states),
                Referral.vacancy_id.in_(
                    select(Referral.vacancy_id).where(
                        Referral.person_id == survivor, Referral.status.in_(open_states)
                    )
                ),
            )
            .order_by(Referral.id)
            .with_for_update()
        )
    ).all()
    now = await clock_now(session)
    reason = f"duplicate record merged into {survivor}"
    for referral in clashing:
        await move(session, referral, ReferralStatus.WITHDRAWN, reason=reason, by=SYSTEM, at=now)
    await session.flush()
    await readmodels.move_person_rows(session, Referral, merged, survivor)
    # One active placement per person: the survivor's stands, the duplicate's is ended.
    if await session.scalar(
        select(Placement.id).where(Placement.person_id == survivor, Placement.status == "active")
    ):
        await session.execute(
            update(Placement)
            .where(Placement.person_id == merged, Placement.status == "active")
            .values(status="ended", ended_on=now.date(), end_reason="duplicate record merged")
            .execution_options(synchronize_session=False)
        )
    await readmodels.move_person_rows(session, Placement, merged, survivor)


async def forget_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    """An erasure in registry: the free text officers wrote about the person goes.

    Referrals and placements stay as counts of what the network did, keyed by an id that no
    longer leads to anyone; notes and reasons could name the person, so they are blanked.
    """
    referral_ids = select(Referral.id).where(Referral.person_id == person_id)
    await readmodels.blank_person_rows(session, Referral, [person_id], "note")
    await session.execute(
        update(ReferralStatusChange)
        .where(ReferralStatusChange.referral_id.in_(referral_ids))
        .values(reason=None)
        .execution_options(synchronize_session=False)
    )
    await readmodels.blank_person_rows(session, Placement, [person_id], "end_reason")


HANDLERS: dict[str, Handler] = person_reactions(
    merged=lambda work, merge: repoint_merged_person(
        work.session, merge.person_id, merge.survivor_id
    ),
    erased=lambda work, erasure: forget_person(work.session, erasure.person_id),
)
