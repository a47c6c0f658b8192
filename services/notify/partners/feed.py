"""The partner feed: entries appended as events arrive, fanned out to webhook deliveries and
partner Kafka topics, presented to each partner as its scope and the person's consent allow,
and kept honest when people are erased, merged, withdraw consent or let it lapse.

A subscription starts at its creation, on every way out alike: the pull feed reads only entries
after its `starts_after` (the feed's end when it was made), which are exactly the entries fanned
out to its webhook and Kafka topic. History from before is included only when asked for
(`include_history`, recorded on the subscription): then the feed reads from the beginning and
`catch_up` writes the past entries to the webhook and topic in feed order before new ones
follow, so that no copy of a person's events arrives out of order.

Order: entries are numbered by a bigserial, and appended under one transaction-level advisory
lock held until commit, so that entries become visible in the order of their numbers. Without
it, a reader past entry 100 could miss entry 99 committed a moment later by another consumer
(DESIGN.md 7b: a poller reading `id > last_seen` skips rows committed late), and its cursor
would never return to it."""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import BigInteger, Table, bindparam, exists, func, insert, select, text, true

from services.notify.partners import sealed_copies, streams
from services.notify.partners.models import Delivery, FeedEntry, Partner, Subscription
from services.notify.partners.presenting import (
    PartnerRef,
    body_bytes,
    decisions_of,
    master_key,
    present,
)
from services.notify.partners.scopes import Scope
from services.notify.partners.streams import EntryKind
from shared.consumer.direct import Direct
from shared.outbox.models import OutboxRecord
from shared.sealing_keys import stored_keys

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.settings import Settings

_FEED_LOCK = zlib.crc32(b"labourx-partner-feed")
_LOCKED = "partner_feed_locked"

_ENTRIES = cast("Table", FeedEntry.__table__)
_DELIVERIES = cast("Table", Delivery.__table__)
_OUTBOX = cast("Table", OutboxRecord.__table__)
_ENTRY_FIELDS = (
    "stream",
    "kind",
    "event_id",
    "event_type",
    "dataschema",
    "subject",
    "person_id",
    "target_partner_id",
    "time",
    "data",
)
_SUBSCRIPTIONS = cast("Table", Subscription.__table__)
_PARTNERS = cast("Table", Partner.__table__)
_stream = bindparam("stream", type_=_ENTRIES.c.stream.type)
_new_entry = (
    insert(_ENTRIES)
    .values(
        {
            name: _stream if name == "stream" else bindparam(name, type_=_ENTRIES.c[name].type)
            for name in _ENTRY_FIELDS
        }
    )
    .returning(_ENTRIES.c.id)
    .cte("new_entry")
)
# The entry and whether anyone subscribes to its stream, in one statement built once: most
# streams have no subscriber most of the time, and a second query per event only to find
# nobody to fan out to was a good part of the consumer's CPU per event. Whoever subscribes is
# read in the same transaction as before, so a new subscription is fanned out to at once.
_APPEND = select(
    _new_entry.c.id,
    exists()
    .where(
        _SUBSCRIPTIONS.c.stream == _stream,
        _SUBSCRIPTIONS.c.status == "active",
        _PARTNERS.c.id == _SUBSCRIPTIONS.c.partner_id,
        _PARTNERS.c.active.is_(true()),
    )
    .label("subscribed"),
)

# Run on the transaction's connection (shared.consumer.direct): every event's hot path.
_APPEND_DIRECT = Direct(_APPEND)
_LOCK = Direct(
    text("SELECT pg_advisory_xact_lock(:k)").bindparams(bindparam("k", type_=BigInteger))
)


# --- appending and fan-out --------------------------------------------------------------------


@dataclass(frozen=True)
class _Live:
    subscription: Subscription
    partner: PartnerRef


async def _live_subscriptions(session: AsyncSession, stream: str, master: bytes) -> list[_Live]:
    # A subscription still catching up on the history it asked for gets new entries from
    # `catch_up`, after the older ones.
    rows = await session.execute(
        select(Subscription, Partner)
        .join(Partner, Partner.id == Subscription.partner_id)
        .where(
            Subscription.stream == stream,
            Subscription.status == "active",
            Subscription.catching_up_after.is_(None),
            Partner.active.is_(True),
        )
    )
    return [_Live(sub, PartnerRef.of(partner, master)) for sub, partner in rows.all()]


async def append(
    session: AsyncSession,
    settings: Settings,
    *,
    stream: str,
    kind: EntryKind,
    event_type: str,
    time: datetime,
    data: dict[str, Any],
    event_id: uuid.UUID | None = None,
    dataschema: str | None = None,
    subject: str | None = None,
    person_id: uuid.UUID | None = None,
    target_partner_id: uuid.UUID | None = None,
) -> int:
    """Append one entry to a stream's feed and fan it out; returns its position."""
    await lock_feed(session)
    fields: dict[str, Any] = {
        "stream": stream,
        "kind": kind.value,
        "event_id": event_id,
        "event_type": event_type,
        "dataschema": dataschema,
        "subject": subject,
        "person_id": person_id,
        "target_partner_id": target_partner_id,
        "time": time,
        "data": data,
    }
    appended = await _APPEND_DIRECT.fetchrow(session, fields)
    if appended is None:  # an INSERT ... RETURNING without ON CONFLICT returns its row
        raise RuntimeError("the feed entry was not appended")
    position, subscribed = appended
    if subscribed:
        await _fan_out(session, settings, FeedEntry(id=position, **fields))
    return int(position)


async def lock_feed(session: AsyncSession) -> None:
    """The feed's advisory lock, held until the transaction ends (taken once per transaction)."""
    if not session.info.get(_LOCKED):
        await _LOCK.execute(session, {"k": _FEED_LOCK})
        session.info[_LOCKED] = True


def wants(subscription: Subscription, entry: FeedEntry, partner: PartnerRef) -> bool:
    """Whether an entry belongs in a subscription's deliveries."""
    if entry.kind == EntryKind.REMOVAL:
        if subscription.scope == Scope.AGGREGATE:
            return False
        return entry.target_partner_id in (None, partner.id)
    return not subscription.event_types or entry.event_type in subscription.event_types


async def _fan_out(session: AsyncSession, settings: Settings, entry: FeedEntry) -> None:
    """Webhook deliveries and Kafka records of a new entry, in the caller's transaction."""
    await _fan_out_to(
        session, entry, await _live_subscriptions(session, entry.stream, master_key(settings))
    )


async def _fan_out_to(
    session: AsyncSession,
    entry: FeedEntry,
    subscribed: Sequence[_Live],
    today: date | None = None,
) -> None:
    """Webhook deliveries and Kafka records of an entry for these subscriptions."""
    live = [item for item in subscribed if wants(item.subscription, entry, item.partner)]
    if not live:
        return
    deliveries = [
        {
            "id": uuid.uuid4(),
            "partner_id": item.partner.id,
            "subscription_id": item.subscription.id,
            "entry_id": entry.id,
        }
        for item in live
        if item.subscription.webhook_url
    ]
    if deliveries:
        await session.execute(insert(_DELIVERIES), deliveries)
    kafka = [item for item in live if item.subscription.kafka]
    if not kafka:
        return
    decisions = await decisions_of(session, [entry.person_id] if entry.person_id else [])
    today = today or entry.time.date()
    records = []
    person_keys: dict[uuid.UUID, bytes] | None = None
    for item in kafka:
        document = present(entry, item.partner, Scope(item.subscription.scope), decisions, today)
        if document is None:
            continue
        if entry.person_id is not None and sealed_copies.needs_sealing(document, entry.person_id):
            # The topic's copy of a person's personal record is sealed under the partner's key
            # of the person, which the erasure destroys (sealed_copies.py). One SELECT, only
            # when a `personal` Kafka subscription receives the entry.
            if person_keys is None:
                person_keys = await stored_keys(session, [entry.person_id])
            person_key = person_keys.get(entry.person_id)
            if person_key is None:
                # Notify holds no key of them (registered before keys, and not changed since):
                # nothing to seal with, so the topic gets the pseudonymised view; the feed and
                # webhooks carry their personal record.
                document = present(entry, item.partner, Scope.PSEUDONYMISED, decisions, today)
                if document is None:
                    continue
            else:
                document = sealed_copies.sealed_document(
                    document, entry.person_id, item.partner.code, person_key
                )
        records.append(
            {
                "event_id": uuid.UUID(document["id"]),
                "topic": streams.partner_topic(item.partner.code, entry.stream),
                "key": document.get("subject") or document["id"],
                "type": entry.event_type,
                "value": body_bytes(document),
            }
        )
    if records:
        await session.execute(insert(_OUTBOX), records)


# --- where a subscription starts -------------------------------------------------------------


async def start_position(session: AsyncSession, include_history: bool) -> int:
    """The feed position a new subscription starts after: the feed's end now, or 0 for one that
    asked for the history. Read under the feed's lock, held until the subscription commits: an
    entry is then either at or before this position, or appended after the commit and fanned
    out to the subscription, never neither (nor both)."""
    await lock_feed(session)
    if include_history:
        return 0
    return int(await session.scalar(select(func.coalesce(func.max(FeedEntry.id), 0))) or 0)


async def catch_up(session: AsyncSession, settings: Settings, today: date, limit: int) -> int:
    """Write the history a subscription asked for to its webhook and Kafka topic, `limit`
    entries a subscription per pass, in feed order; returns how many entries were handled.

    Meanwhile new entries are not fanned out to it (`_live_subscriptions`); the pass that meets
    the feed's end, under the feed's lock, makes it live, so that the next entry appended is
    fanned out at once and nothing arrives twice or out of order."""
    waiting = select(Subscription.id).where(
        Subscription.catching_up_after.is_not(None), Subscription.status == "active"
    )
    if await session.scalar(waiting.limit(1)) is None:
        return 0
    await lock_feed(session)
    rows = (
        await session.execute(
            select(Subscription, Partner)
            .join(Partner, Partner.id == Subscription.partner_id)
            .where(Subscription.id.in_(waiting), Partner.active.is_(True))
            .with_for_update(of=Subscription, skip_locked=True)
        )
    ).all()
    master = master_key(settings)
    handled = 0
    for subscription, partner in rows:
        position = subscription.catching_up_after
        entries = list(
            (
                await session.scalars(
                    select(FeedEntry)
                    .where(FeedEntry.stream == subscription.stream, FeedEntry.id > position)
                    .order_by(FeedEntry.id)
                    .limit(limit)
                )
            ).all()
        )
        target = [_Live(subscription, PartnerRef.of(partner, master))]
        for entry in entries:
            await _fan_out_to(session, entry, target, today)
        handled += len(entries)
        # Fewer than a batch: the feed's end, which nothing passes while the lock is held.
        subscription.catching_up_after = entries[-1].id if len(entries) == limit else None
    await session.flush()
    return handled
