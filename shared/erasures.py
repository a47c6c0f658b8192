"""Re-applying the erasure ledger to databases restored from a backup (`labourx erasures
reapply`, docs/operations.md "Back up and restore").

The ledger is the `registry.erasures` topic: one `ErasureRecorded` per id erased, ids and dates
only, kept for ever, published by registry in the erasure's own transaction. It is read whole,
from the beginning, by a consumer of no group (nothing committed, nothing to reset), and each
entry is applied to a service's database by that service's own reaction to `PersonErased` (the
handler its consumer runs; registry's own erasure for registry), a batch in a transaction.

An entry is applied to a consumer group's database at most once: its inbox holds the
`PersonErased` the entry records when the consumer applied it (before the backup), and
`<group>.erasure-ledger` the entry's id once re-applied here, so running it again changes
nothing. The consumer's own inbox row is not written: a consumer moved back to the backup's
time re-reads the person's events after it, and must apply the PersonErased that follows them
again (on the same key, so in order).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert

from shared import clock
from shared.consumer import Handler, InboxRecord
from shared.db import create_engine, session_factory
from shared.events.base import parse_data
from shared.events.envelope import CloudEvent
from shared.events.registry import ErasureRecorded, PersonErased
from shared.events.topics import REGISTRY_ERASURES
from shared.work import Resources, Work

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings

# One service's re-application of an entry on its database (`work.session`): its outcome,
# counted ("applied", "erased", "unknown", ...).
Reapplier = Callable[[Work, ErasureRecorded], Awaitable[str]]

# Who erased, in the PersonErased a handler is given: the ledger, not a member of staff.
LEDGER_ACCOUNT = "labourx:erasure-ledger"
MARKER_SUFFIX = ".erasure-ledger"
# The ledger is read until the end offsets it had when the read began; a broker that gives no
# record for this long while some remain is reported, not waited on for ever.
READ_STALL_S = 60.0
# Entries applied per transaction, as a consumer applies a batch of records (a commit per entry
# was most of the time); a run stopped half-way is run again, and skips what was committed.
BATCH = 100

_CLAIM = (
    insert(cast("Table", InboxRecord.__table__))
    .on_conflict_do_nothing()
    .returning(InboxRecord.__table__.c.event_id)
)


@dataclass(frozen=True)
class Target:
    """A database to re-apply the ledger to: `service`'s, as consumer group `consumer` keeps
    it (its inbox says what it applied), by `reapply`."""

    service: str
    consumer: str
    reapply: Reapplier


def from_handler(handler: Handler) -> Reapplier:
    """A consumer's handler of `PersonErased`, given the entry as the event it records."""

    async def reapply(work: Work, entry: ErasureRecorded) -> str:
        payload = PersonErased(
            person_id=entry.person_id, erased_by=LEDGER_ACCOUNT, erased_at=entry.erased_at
        )
        event = CloudEvent(
            id=entry.cause_event_id,
            source="/labourx/registry",
            type=PersonErased.event_type(),
            subject=str(entry.person_id),
            time=entry.erased_at,
            dataschema=f"/{PersonErased.schema_path()}",
            correlationid=str(entry.cause_event_id),
            data=payload.model_dump(mode="json"),
        )
        await handler(work, event, payload)
        return "applied"

    return reapply


def entries_of(found: Sequence[ErasureRecorded]) -> list[ErasureRecorded]:
    """Each erased id once (a relay may publish an entry twice), oldest erasure first."""
    by_id: dict[uuid.UUID, ErasureRecorded] = {}
    for entry in found:
        by_id.setdefault(entry.person_id, entry)
    return sorted(by_id.values(), key=lambda e: (e.erased_at, str(e.person_id)))


async def read_ledger(settings: Settings) -> list[ErasureRecorded]:
    """Every entry of the ledger topic, read from its beginning by a consumer of no group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        await consumer.topics()  # loads the metadata partitions_for_topic reads
        numbers = consumer.partitions_for_topic(REGISTRY_ERASURES) or set()
        partitions = [TopicPartition(REGISTRY_ERASURES, p) for p in sorted(numbers)]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        return entries_of(await _read_to_end(consumer, partitions))
    finally:
        await consumer.stop()


async def _read_to_end(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> list[ErasureRecorded]:
    ends = await consumer.end_offsets(partitions)
    found: list[ErasureRecorded] = []
    pending = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
    progress = time.monotonic()
    while pending:
        batches = await consumer.getmany(*pending, timeout_ms=1000)
        for tp, records in batches.items():
            for record in records:
                if record.offset < ends[tp]:
                    found.extend(_entry(record.value or b""))
                    progress = time.monotonic()
        pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        if pending and time.monotonic() - progress > READ_STALL_S:
            raise RuntimeError(
                f"the ledger topic {REGISTRY_ERASURES} gave no record for {READ_STALL_S:.0f} s"
                f" with {len(pending)} partition(s) not read to their end"
            )
    return found


def _entry(raw: bytes) -> list[ErasureRecorded]:
    event = CloudEvent.from_bytes(raw)
    if event.type != ErasureRecorded.event_type():
        return []  # a later version's entries are read by the code that knows them
    return [cast("ErasureRecorded", parse_data(event.type, event.data))]


async def reapply(
    settings: Settings, target: Target, entries: Sequence[ErasureRecorded]
) -> collections.Counter[str]:
    """Apply each entry not applied yet to the target's database, BATCH in a transaction; the
    outcomes counted ("already": applied before)."""
    engine = create_engine(settings, target.service)
    sessions = session_factory(engine)
    resources = Resources()
    counts: collections.Counter[str] = collections.Counter()
    try:
        for start in range(0, len(entries), BATCH):
            async with sessions() as session, session.begin():
                for entry in entries[start : start + BATCH]:
                    outcome = await _apply(session, sessions, settings, resources, target, entry)
                    counts[outcome] += 1
    finally:
        await resources.aclose()
        await engine.dispose()
    return counts


async def _apply(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    resources: Resources,
    target: Target,
    entry: ErasureRecorded,
) -> str:
    claimed = await session.execute(
        _CLAIM,
        {
            "consumer": target.consumer + MARKER_SUFFIX,
            "event_id": entry.cause_event_id,
            "event_type": ErasureRecorded.event_type(),
        },
    )
    if claimed.first() is None:
        return "already"
    applied_by_consumer = await session.scalar(
        select(InboxRecord.event_id).where(
            InboxRecord.consumer == target.consumer,
            InboxRecord.event_id == entry.cause_event_id,
        )
    )
    if applied_by_consumer is not None:
        return "already"
    return await target.reapply(Work(session, settings, sessions, clock.today(), resources), entry)
