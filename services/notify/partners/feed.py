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
would never return to it.
"""

from __future__ import annotations

import json
import secrets
import uuid
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as datetime_time
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, exists, func, insert, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.partners import domain
from services.notify.partners.domain import EntryKind, RemovalReason, Scope, SharingDecision
from services.notify.partners.models import (
    Delivery,
    FeedEntry,
    Partner,
    SharingConsent,
    Subscription,
)
from shared.clock import LAO_TIME
from shared.db import clock_now
from shared.events.base import CATALOGUE
from shared.outbox.models import OutboxRecord
from shared.settings import Settings

_FEED_LOCK = zlib.crc32(b"labourx-partner-feed")
_LOCKED = "partner_feed_locked"

# Streams whose events name a person: where an erasure or a withdrawal appends its removal.
PERSON_STREAMS = tuple(
    stream
    for stream in domain.STREAMS
    if any(
        "person_id" in spec.model.model_fields
        for spec in CATALOGUE.values()
        if spec.topic == stream
    )
)

_ENTRIES = cast(Table, FeedEntry.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)
_OUTBOX = cast(Table, OutboxRecord.__table__)
_PURGE_OUTBOX = text(
    "DELETE FROM outbox WHERE topic LIKE 'partner.%' AND position(:person_id IN value) > 0"
)

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
_SUBSCRIPTIONS = cast(Table, Subscription.__table__)
_PARTNERS = cast(Table, Partner.__table__)
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


def master_key(settings: Settings) -> bytes:
    """The key every partner's pseudonym key is derived from: LABOURX_PARTNER_PSEUDONYM_KEY,
    a key of its own (webhook secrets have theirs: service.current_secret)."""
    return settings.purpose_key("partner_pseudonym_key")


@dataclass(frozen=True)
class PartnerRef:
    """What presenting an entry needs to know of a partner."""

    id: uuid.UUID
    code: str
    category: str
    key: bytes

    @classmethod
    def of(cls, partner: Partner, master: bytes) -> PartnerRef:
        return cls(
            partner.id, partner.code, partner.category, domain.partner_key(master, partner.id)
        )


def subject_field(event_type: str) -> str | None:
    spec = CATALOGUE.get(event_type)
    return spec.model.subject_field if spec is not None else None


# --- consent --------------------------------------------------------------------------------


async def decisions_of(
    session: AsyncSession, person_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[str, SharingDecision]]:
    """Each person's partner-sharing decisions, by scope key."""
    ids = list(set(person_ids))
    found: dict[uuid.UUID, dict[str, SharingDecision]] = defaultdict(dict)
    if not ids:
        return found
    rows = await session.execute(select(SharingConsent).where(SharingConsent.person_id.in_(ids)))
    for consent in rows.scalars():
        found[consent.person_id][consent.scope_key] = SharingDecision(
            consent.status, consent.expires_on, swept=consent.lapsed_swept_at is not None
        )
    return found


def shares_person(
    partner: PartnerRef,
    person_id: uuid.UUID | None,
    decisions: Mapping[uuid.UUID, Mapping[str, SharingDecision]],
    today: date,
) -> bool:
    """Whether the person's partner-sharing consent lets this partner see them at person level."""
    if person_id is None:
        return False
    return domain.may_share(decisions.get(person_id, {}), partner.code, partner.category, today)


# --- presenting -----------------------------------------------------------------------------


def present(
    entry: FeedEntry,
    partner: PartnerRef,
    scope: Scope,
    decisions: Mapping[uuid.UUID, Mapping[str, SharingDecision]],
    today: date,
) -> dict[str, Any] | None:
    """The entry as this partner may see it (a CloudEvents document); None: not for it."""
    item = domain.item_id(partner.key, entry.id)
    kind = EntryKind(entry.kind)
    if kind is EntryKind.REMOVAL:
        if scope is Scope.AGGREGATE:
            return None  # it never held anything about the person
        personal = scope is Scope.PERSONAL and str(partner.id) in entry.data.get(
            "personal_partner_ids", []
        )
        data = domain.removal_data(entry.data, partner.key, personal)
        return domain.partner_event(
            item=item,
            stream=entry.stream,
            kind=kind,
            event_type=entry.event_type,
            subject=data["person_pseudonym"],
            time=entry.time,
            scope=Scope.PERSONAL if personal else Scope.PSEUDONYMISED,
            data=data,
        )
    effective = scope
    if entry.erased_at is not None:
        effective = Scope.AGGREGATE
    elif (
        scope is not Scope.AGGREGATE
        and "person_id" in entry.data
        and not shares_person(partner, entry.person_id, decisions, today)
    ):
        # No consent covers this partner: counts only, whatever the subscription's scope.
        effective = Scope.AGGREGATE
    return domain.partner_event(
        item=item,
        stream=entry.stream,
        kind=kind,
        event_type=entry.event_type,
        subject=domain.redact_subject(
            subject_field(entry.event_type), entry.subject, effective, partner.key
        ),
        time=entry.time,
        scope=effective,
        data=domain.redact(entry.data, effective, partner.key, entry.time.date()),
        dataschema=entry.dataschema,
    )


def body_bytes(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


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
    await _lock_feed(session)
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
    position, subscribed = (await session.execute(_APPEND, fields)).one()
    if subscribed:
        await _fan_out(session, settings, FeedEntry(id=position, **fields))
    return int(position)


async def _lock_feed(session: AsyncSession) -> None:
    """The feed's advisory lock, held until the transaction ends (taken once per transaction)."""
    if not session.info.get(_LOCKED):
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FEED_LOCK})
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
    for item in kafka:
        document = present(entry, item.partner, Scope(item.subscription.scope), decisions, today)
        if document is None:
            continue
        records.append(
            {
                "event_id": uuid.UUID(document["id"]),
                "topic": domain.partner_topic(item.partner.code, entry.stream),
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
    await _lock_feed(session)
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
    await _lock_feed(session)
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


# --- keeping partner data honest --------------------------------------------------------------


async def _person_level_partners(session: AsyncSession, master: bytes) -> dict[uuid.UUID, _Partner]:
    """Partners with a subscription that receives people's data at person level (pseudonymised
    or personal, under their consent), and the streams it covers."""
    rows = await session.execute(
        select(Partner, Subscription.stream)
        .join(Subscription, Subscription.partner_id == Partner.id)
        .where(
            Subscription.scope.in_((Scope.PSEUDONYMISED, Scope.PERSONAL)),
            Subscription.status != "deleted",
        )
    )
    found: dict[uuid.UUID, _Partner] = {}
    for partner, stream in rows.all():
        ref = found.setdefault(partner.id, _Partner(PartnerRef.of(partner, master), set()))
        ref.streams.add(stream)
    return found


@dataclass(frozen=True)
class _Partner:
    ref: PartnerRef
    streams: set[str]


async def record_consent(
    session: AsyncSession,
    settings: Settings,
    *,
    person_id: uuid.UUID,
    agency: str | None,
    category: str | None,
    status: str,
    expires_on: date | None,
    recorded_at: datetime,
    today: date,
) -> None:
    """Keep a partner-sharing decision; a partner that loses the person's data (pseudonymised or
    personal) is sent a removal (for that partner only) on each stream it received it on."""
    key = domain.scope_key(agency, category)
    if key is None:
        return
    partners = await _person_level_partners(session, master_key(settings))
    before = (await decisions_of(session, [person_id])).get(person_id, {})
    current = before.get(key)
    if current is not None:
        stored = await session.get(SharingConsent, (person_id, key))
        if stored is not None and stored.recorded_at > recorded_at:
            return  # an older decision arriving late changes nothing
    decision = SharingDecision(status, expires_on)
    await session.merge(
        SharingConsent(
            person_id=person_id,
            scope_key=key,
            status=status,
            expires_on=expires_on,
            recorded_at=recorded_at,
            # Set either way: merge keeps what the object leaves unset. A decision already past
            # its date has its removals (if any) sent now, below, not again by the sweep.
            lapsed_swept_at=recorded_at if decision.lapsed_unswept(today) else None,
        )
    )
    held = domain.held(before, today)
    await _remove_lost_sharing(
        session,
        settings,
        partners,
        person_id=person_id,
        before=held,
        after={**held, key: decision},
        today=today,
        time=recorded_at,
    )


async def _remove_lost_sharing(
    session: AsyncSession,
    settings: Settings,
    partners: Mapping[uuid.UUID, _Partner],
    *,
    person_id: uuid.UUID,
    before: Mapping[str, SharingDecision],
    after: Mapping[str, SharingDecision],
    today: date,
    time: datetime,
) -> None:
    """A removal, for that partner only, on each stream it receives people's data on, to every
    person-level partner that may share the person's data under `before` but not `after`."""
    for partner in partners.values():
        ref = partner.ref
        had = domain.may_share(before, ref.code, ref.category, today)
        has = domain.may_share(after, ref.code, ref.category, today)
        if had and not has:
            await _removals(
                session,
                settings,
                person_id=person_id,
                reason=RemovalReason.CONSENT_WITHDRAWN,
                time=time,
                personal=[ref.id],
                streams=sorted(partner.streams & set(PERSON_STREAMS)),
                target=ref.id,
            )


async def sweep_lapsed_consents(
    session: AsyncSession, settings: Settings, today: date, limit: int
) -> int:
    """Treat consents in force until a date before `today` as withdrawn on the day after it:
    partners that lose the person's personal data are sent the withdrawal's removals, and the
    consent is marked swept. Returns how many consents were swept.

    Rows are claimed with `FOR UPDATE SKIP LOCKED` (several job processes may sweep at once)
    after the feed's lock, the order the consumer takes them in, so neither waits on the other.
    """
    unswept = (
        SharingConsent.status.in_(domain.IN_FORCE),
        SharingConsent.expires_on < today,
        SharingConsent.lapsed_swept_at.is_(None),
    )
    if await session.scalar(select(SharingConsent.person_id).where(*unswept).limit(1)) is None:
        return 0  # most passes: no need to hold up the feed
    await _lock_feed(session)
    lapsed = list(
        (
            await session.scalars(
                select(SharingConsent)
                .where(*unswept)
                .order_by(
                    SharingConsent.expires_on, SharingConsent.person_id, SharingConsent.scope_key
                )
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    if not lapsed:
        return 0
    partners = await _person_level_partners(session, master_key(settings))
    decisions = await decisions_of(session, [consent.person_id for consent in lapsed])
    swept_at = await clock_now(session)
    for consent in lapsed:
        if consent.expires_on is None:
            continue  # never selected; narrows the type
        held = domain.held(decisions[consent.person_id], today)
        await _remove_lost_sharing(
            session,
            settings,
            partners,
            person_id=consent.person_id,
            before=held,
            after={**held, consent.scope_key: decisions[consent.person_id][consent.scope_key]},
            today=today,
            time=lapse_time(consent.expires_on),
        )
        consent.lapsed_swept_at = swept_at
    await session.flush()
    return len(lapsed)


def lapse_time(expires_on: date) -> datetime:
    """When a consent valid through `expires_on` lapses: the next midnight in Lao PDR."""
    return datetime.combine(expires_on + timedelta(days=1), datetime_time.min, tzinfo=LAO_TIME)


async def _removals(
    session: AsyncSession,
    settings: Settings,
    *,
    person_id: uuid.UUID,
    reason: RemovalReason,
    time: datetime,
    personal: Sequence[uuid.UUID],
    streams: Sequence[str],
    target: uuid.UUID | None = None,
    survivor_id: uuid.UUID | None = None,
) -> None:
    data: dict[str, Any] = {
        "reason": reason.value,
        "person_id": str(person_id),
        # Partners that held the person's data with their consent: only they are told the id.
        "personal_partner_ids": [str(p) for p in personal],
    }
    if survivor_id is not None:
        data["survivor_id"] = str(survivor_id)
    for stream in streams:
        await append(
            session,
            settings,
            stream=stream,
            kind=EntryKind.REMOVAL,
            event_type=domain.REMOVAL_TYPE,
            time=time,
            data=data,
            person_id=person_id,
            target_partner_id=target,
        )


async def _sharing_partners(
    session: AsyncSession, settings: Settings, person_id: uuid.UUID, today: date
) -> list[uuid.UUID]:
    partners = await _person_level_partners(session, master_key(settings))
    decisions = (await decisions_of(session, [person_id])).get(person_id, {})
    # A lapse not swept yet counts: the partner may still hold the data and is told the id.
    held = domain.held(decisions, today)
    return [
        p.ref.id
        for p in partners.values()
        if domain.may_share(held, p.ref.code, p.ref.category, today)
    ]


async def merge_person(
    session: AsyncSession,
    settings: Settings,
    *,
    person_id: uuid.UUID,
    survivor_id: uuid.UUID,
    time: datetime,
    today: date,
) -> None:
    """A duplicate record was merged away: its sharing decisions go (registry records what the
    person decides on the kept record), and partners that held its personal data are told to
    delete it and follow the survivor's pseudonym."""
    personal = await _sharing_partners(session, settings, person_id, today)
    await session.execute(delete(SharingConsent).where(SharingConsent.person_id == person_id))
    if personal:
        await _removals(
            session,
            settings,
            person_id=person_id,
            reason=RemovalReason.MERGED,
            time=time,
            personal=personal,
            streams=PERSON_STREAMS,
            survivor_id=survivor_id,
        )


async def erase_person(
    session: AsyncSession, settings: Settings, *, person_id: uuid.UUID, time: datetime, today: date
) -> None:
    """Purge what the feed holds of a person and tell every partner to delete them.

    Their entries keep only the aggregate view (no identifier, no pseudonym can be made from
    them), webhooks not yet sent are cancelled, partner Kafka records holding their id that the
    relay has not sent are deleted, their sharing decisions go, and a removal is appended to
    every stream that names people.
    """
    personal = await _sharing_partners(session, settings, person_id, today)
    await session.execute(delete(SharingConsent).where(SharingConsent.person_id == person_id))
    entries = (
        await session.execute(
            select(FeedEntry).where(
                FeedEntry.person_id == person_id, FeedEntry.kind == EntryKind.EVENT
            )
        )
    ).scalars()
    throwaway = secrets.token_bytes(32)  # aggregate views hold no pseudonym; the key is unused
    purged: list[int] = []
    for entry in entries:
        entry.data = domain.redact(entry.data, Scope.AGGREGATE, throwaway, entry.time.date())
        entry.person_id = None
        if subject_field(entry.event_type) in (*domain.PERSON_IDS, *domain.LINKED_IDS):
            entry.subject = None
        entry.erased_at = time
        purged.append(entry.id)
    if purged:
        await session.flush()
        await session.execute(
            update(Delivery)
            .where(Delivery.entry_id.in_(purged), Delivery.status.in_(("pending", "in_flight")))
            .values(status="cancelled", last_error="the person was erased")
        )
    # Only personal-scope records carry the raw id (pseudonymised ones are followed by the
    # removals): unsent ones are never published, sent ones are not kept until the relay's purge.
    await session.execute(_PURGE_OUTBOX, {"person_id": str(person_id).encode()})
    await _removals(
        session,
        settings,
        person_id=person_id,
        reason=RemovalReason.ERASED,
        time=time,
        personal=personal,
        streams=PERSON_STREAMS,
    )
