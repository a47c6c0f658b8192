"""A partner's webhook deliveries: listed, read, and sent again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from services.notify.partners import presenting, pseudonyms
from services.notify.partners.models import Delivery, FeedEntry, Subscription
from services.notify.partners.schemas import DeliveryPage, DeliveryRead
from shared.db import clock_now
from shared.pagination import equal_if_given, newest_first, page_of
from shared.problems import Conflict, NotFound

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.settings import Settings


async def _delivery_reads(
    session: AsyncSession, settings: Settings, rows: list[tuple[Delivery, FeedEntry]]
) -> list[DeliveryRead]:
    if not rows:
        return []
    key = pseudonyms.partner_key(presenting.master_key(settings), rows[0][0].partner_id)
    return [
        DeliveryRead(
            id=d.id,
            subscription_id=d.subscription_id,
            item_id=pseudonyms.item_id(key, e.id),
            event_type=e.event_type,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status in ("pending", "in_flight") else None,
            last_attempt_at=d.last_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            succeeded_at=d.succeeded_at,
            created_at=d.created_at,
        )
        for d, e in rows
    ]


async def list_deliveries(
    session: AsyncSession,
    settings: Settings,
    partner_id: uuid.UUID,
    *,
    subscription_id: uuid.UUID | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> DeliveryPage:
    """The partner's deliveries, newest first."""
    query = (
        select(Delivery, FeedEntry)
        .join(FeedEntry, FeedEntry.id == Delivery.entry_id)
        .where(
            Delivery.partner_id == partner_id,
            *equal_if_given(Delivery, subscription_id=subscription_id, status=status),
        )
    )
    # An empty cursor reads as none, as it always has here.
    query = newest_first(
        query, (Delivery.created_at, Delivery.id), after=cursor or None, limit=limit
    )
    rows = [(d, e) for d, e in (await session.execute(query)).all()]
    page, following = page_of(rows, limit, lambda row: (row[0].created_at, row[0].id))
    return DeliveryPage(items=await _delivery_reads(session, settings, page), next_cursor=following)


async def get_delivery(
    session: AsyncSession, settings: Settings, partner_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryRead:
    row = (
        await session.execute(
            select(Delivery, FeedEntry)
            .join(FeedEntry, FeedEntry.id == Delivery.entry_id)
            .where(Delivery.id == delivery_id, Delivery.partner_id == partner_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    return (await _delivery_reads(session, settings, [(row[0], row[1])]))[0]


async def redeliver(
    session: AsyncSession, settings: Settings, partner_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryRead:
    """Send a finished delivery again, with the same `webhook-id`, on a fresh retry schedule."""
    delivery = await session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.partner_id != partner_id:
        raise NotFound(f"no delivery {delivery_id}")
    if delivery.status in ("pending", "in_flight"):
        raise Conflict(f"delivery {delivery_id} is {delivery.status} already")
    if delivery.status == "cancelled":
        raise Conflict(f"delivery {delivery_id} was cancelled ({delivery.last_error})")
    subscription = await session.get(Subscription, delivery.subscription_id)
    if subscription is None or subscription.status != "active" or not subscription.webhook_url:
        raise Conflict("the subscription is not active: enable it first")
    now = await clock_now(session)
    delivery.status = "pending"
    delivery.round_attempts = 0
    delivery.round_started_at = now
    delivery.next_attempt_at = now
    await session.flush()
    return await get_delivery(session, settings, partner_id, delivery_id)
