"""What registry does when matching tells it about referrals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.registry.jobseekers.service import apply_placement_ended, apply_referral
from shared.consumer import Handler, expect
from shared.events.matching import PlacementEnded, ReferralStatusChanged

if TYPE_CHECKING:
    from shared.events import CloudEvent, Event
    from shared.work import Work


async def on_referral_status_changed(work: Work, event: CloudEvent, payload: Event) -> None:
    """A referral made, moved on or closed: the jobseeker's status follows."""
    payload = expect(payload, ReferralStatusChanged)
    await apply_referral(
        work.session,
        referral_id=payload.referral_id,
        person_id=payload.person_id,
        status=payload.status,
        changed_at=payload.changed_at,
        changed_by=payload.changed_by,
    )


async def on_placement_ended(work: Work, event: CloudEvent, payload: Event) -> None:
    """A placement ended: the jobseeker it placed is active again."""
    payload = expect(payload, PlacementEnded)
    await apply_placement_ended(
        work.session,
        person_id=payload.person_id,
        referral_id=payload.referral_id,
        placement_id=payload.placement_id,
        ended_at=payload.ended_at,
        changed_by=payload.ended_by,
    )


HANDLERS: dict[str, Handler] = {
    ReferralStatusChanged.event_type(): on_referral_status_changed,
    PlacementEnded.event_type(): on_placement_ended,
}
