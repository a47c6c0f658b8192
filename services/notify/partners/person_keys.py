"""The keys a partner opens its Kafka records with (sealed_copies.py): its own key of each person
whose records it may see in `personal` scope, and of no one else.

Answered only while all of it holds: the partner has a `personal` subscription with a Kafka
topic (not deleted), the person's partner-sharing consent in force covers the partner, and
notify still holds the person's key (an erasure deletes it). Anyone else is left out of the
answer, as registry's own route leaves out an erased or unknown person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from services.notify.partners import sharing_rules
from services.notify.partners.models import Partner, Subscription
from services.notify.partners.presenting import decisions_of
from services.notify.partners.scopes import Scope
from shared import clock
from shared.sealing import partner_person_key
from shared.sealing_keys import stored_keys

if TYPE_CHECKING:
    import uuid
    from collections.abc import Collection

    from sqlalchemy.ext.asyncio import AsyncSession


async def _receives_sealed_records(session: AsyncSession, partner: Partner) -> bool:
    """Whether the partner has a `personal` Kafka subscription (active or disabled: its topic
    still holds the records)."""
    found = await session.scalar(
        select(Subscription.id)
        .where(
            Subscription.partner_id == partner.id,
            Subscription.scope == Scope.PERSONAL.value,
            Subscription.kafka.is_(True),
            Subscription.status != "deleted",
        )
        .limit(1)
    )
    return found is not None


async def partner_keys(
    session: AsyncSession, partner: Partner, person_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, bytes]:
    """The partner's keys of the people it may read in `personal` scope (one SELECT of
    subscriptions, of consents and of keys); everyone else is left out."""
    ids = set(person_ids)
    if not ids or not await _receives_sealed_records(session, partner):
        return {}
    decisions = await decisions_of(session, ids)
    today = clock.today()
    shared = [
        person_id
        for person_id in ids
        if sharing_rules.may_share(
            decisions.get(person_id, {}), partner.code, partner.category, today
        )
    ]
    held = await stored_keys(session, shared)
    return {person_id: partner_person_key(key, partner.code) for person_id, key in held.items()}
