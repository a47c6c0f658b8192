"""What registry does when matching tells it about referrals."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.jobseekers.service import apply_referral
from shared.events import CloudEvent, Event
from shared.events.matching import ReferralStatusChanged


async def on_referral_status_changed(
    session: AsyncSession, event: CloudEvent, payload: Event
) -> None:
    """A referral made, moved on or closed: the jobseeker's status follows."""
    assert isinstance(payload, ReferralStatusChanged)
    await apply_referral(
        session,
        referral_id=payload.referral_id,
        person_id=payload.person_id,
        status=payload.status,
        changed_at=payload.changed_at,
        changed_by=payload.changed_by,
    )
