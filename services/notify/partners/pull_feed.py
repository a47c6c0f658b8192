"""The pull feed: a partner reads the entries of a stream it subscribes to, after a cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, select

from services.notify.partners import feed_cursors, presenting
from services.notify.partners.models import FeedEntry, Partner, Subscription
from services.notify.partners.schemas import FeedPage
from services.notify.partners.scopes import Scope
from services.notify.partners.streams import EntryKind
from shared import clock
from shared.problems import InvalidField, NotFound

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.settings import Settings


async def _subscription_to(session: AsyncSession, partner: Partner, stream: str) -> Subscription:
    """The partner's subscription to `stream` (not deleted), 404 if it has none."""
    subscription = await session.scalar(
        select(Subscription).where(
            Subscription.partner_id == partner.id,
            Subscription.stream == stream,
            Subscription.status != "deleted",
        )
    )
    if subscription is None:
        raise NotFound(f"no subscription to {stream}")
    return subscription


def _start(subscription: Subscription, key: bytes, after: str | None) -> int:
    """The feed position to read after: the cursor's, never before the subscription's start."""
    position = subscription.starts_after
    if after:
        decoded = feed_cursors.decode_cursor(key, after)
        if decoded is None:
            raise InvalidField("after", "is not a cursor this feed returned")
        # Never before the subscription's start (a cursor of an earlier subscription).
        position = max(position, decoded)
    return position


def _entries_after(
    subscription: Subscription, partner: Partner, position: int, limit: int
) -> Select[FeedEntry]:
    """The entries the subscription reads after `position`, one more than a page."""
    query = (
        select(FeedEntry)
        .where(
            FeedEntry.stream == subscription.stream,
            FeedEntry.id > position,
            (FeedEntry.target_partner_id.is_(None)) | (FeedEntry.target_partner_id == partner.id),
        )
        .order_by(FeedEntry.id)
        .limit(limit + 1)
    )
    if subscription.scope == Scope.AGGREGATE:
        query = query.where(FeedEntry.kind == EntryKind.EVENT)
    if subscription.event_types:
        query = query.where(
            (FeedEntry.kind == EntryKind.REMOVAL)
            | FeedEntry.event_type.in_(subscription.event_types)
        )
    return query


async def read_feed(
    session: AsyncSession,
    settings: Settings,
    partner: Partner,
    stream: str,
    *,
    after: str | None,
    limit: int,
) -> FeedPage:
    """Entries of a subscribed stream after a cursor (and after the subscription's start),
    each as the partner's scope and the person's consent allow."""
    subscription = await _subscription_to(session, partner, stream)
    ref = presenting.PartnerRef.of(partner, presenting.master_key(settings))
    position = _start(subscription, ref.key, after)
    scope = Scope(subscription.scope)
    query = _entries_after(subscription, partner, position, limit)
    entries = list((await session.scalars(query)).all())
    page = entries[:limit]
    decisions = (
        await presenting.decisions_of(session, [e.person_id for e in page if e.person_id])
        if scope is not Scope.AGGREGATE
        else {}
    )
    today = clock.today()
    items = [
        document
        for entry in page
        if (document := presenting.present(entry, ref, scope, decisions, today)) is not None
    ]
    last = page[-1].id if page else position
    return FeedPage(
        stream=stream,
        scope=scope,
        items=items,
        next_cursor=feed_cursors.encode_cursor(ref.key, last) if last else after,
        has_more=len(entries) > limit,
    )
