"""Figure 2: how many outbox rows per second the real OutboxRelay publishes.

N unsent rows holding realistic PersonRegistered CloudEvents (built by the same code the writer
uses) are committed in one go to the registry outbox while the relay is already leading with a
connected producer; the clock runs from that commit to the moment the last row is marked sent,
both read from PostgreSQL's clock. The reference, in the same run, is a plain aiokafka producer
from `shared.kafka.make_producer` (so acks=all and the same batching) sending the same records,
fully pipelined, straight to the broker: what the broker and client allow without a database.

The rows go to a topic of the benchmark's own, so no consumer ever sees them.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg

from bench.cpu import CpuMeter
from shared.events.envelope import envelope_for, record_headers
from shared.events.registry import PersonRegistered
from shared.kafka import ensure_topics, make_producer
from shared.outbox.relay import OutboxRelay

if TYPE_CHECKING:
    from bench.environment import Environment

COLUMNS = ["event_id", "topic", "key", "type", "value"]


def outbox_rows(topic: str, count: int) -> list[tuple[uuid.UUID, str, str, str, bytes]]:
    """Rows as `shared.outbox.add_event` writes them, for `count` registrations."""
    rows = []
    now = datetime.now(UTC)
    for n in range(count):
        event = PersonRegistered(
            person_id=uuid.uuid4(),
            reference=f"P-{n:08d}",
            given_name_lo="ສົມສັກ",
            family_name_lo="ພົມມະຈັນ",
            given_name_en="Somsak",
            family_name_en="Phommachan",
            sex="male",
            date_of_birth=date(1990, 1, 1) + timedelta(days=n % 5000),
            phone=f"+856205{n % 10_000_000:07d}",
            province_code="LA-VT",
            office_code="ESC-VT",
            preferred_language="lo",
            registered_by="bench-officer",
            registered_at=now,
        )
        envelope = envelope_for(event)
        rows.append((envelope.id, topic, envelope.subject, envelope.type, envelope.to_bytes()))
    return rows


async def _wait_all_sent(conn: asyncpg.Connection, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the relay did not drain the outbox within {timeout_s}s")
        await asyncio.sleep(0.05)


async def measure_relay(env: Environment, topic: str, events: int) -> dict[str, Any]:
    conn: asyncpg.Connection = await asyncpg.connect(env.dsn("registry"))
    stop = asyncio.Event()
    relay = OutboxRelay(env.settings, "registry")
    task = asyncio.create_task(relay.run(stop))
    try:
        await conn.execute("TRUNCATE outbox")  # unsent rows of the POST figure are not ours
        # Warm-up: one row through, so leadership, producer and topic metadata are in place.
        await conn.copy_records_to_table("outbox", records=outbox_rows(topic, 1), columns=COLUMNS)
        await _wait_all_sent(conn, 60)

        rows = outbox_rows(topic, events)
        meter = CpuMeter(
            {"relay": os.getpid(), "postgres": env.postgres_pid, "broker": env.broker_pid}
        )
        async with conn.transaction():
            await conn.copy_records_to_table("outbox", records=rows, columns=COLUMNS)
        committed_at: datetime = await conn.fetchval("SELECT clock_timestamp()")
        meter.start()
        await _wait_all_sent(conn, 600)
        meter.stop()
        last_sent: datetime = await conn.fetchval("SELECT max(sent_at) FROM outbox")
    finally:
        stop.set()
        await task
        await conn.close()
    seconds = (last_sent - committed_at).total_seconds()
    return {
        "events": events,
        "seconds": round(seconds, 3),
        "events_per_s": round(events / seconds, 1),
        "batch_size": env.settings.relay_batch_size,
        "busiest_other_processes": meter.others_by_name,
        # The relay runs in this process (the driver only polls).
        "cores_used": {
            **meter.shares(),
            "rest of machine": round(meter.others_s() / meter.wall_s, 2),
        },
    }


async def measure_raw_producer(env: Environment, topic: str, events: int) -> dict[str, Any]:
    """The same records, from the outbox rows, sent by a bare producer with no database."""
    conn: asyncpg.Connection = await asyncpg.connect(env.dsn("registry"))
    try:
        records = await conn.fetch(
            "SELECT key, value FROM outbox ORDER BY id DESC LIMIT $1", events
        )
    finally:
        await conn.close()
    records = list(reversed(records))
    producer = make_producer(env.settings)
    await producer.start()
    try:
        await producer.send_and_wait(topic, records[0]["value"], key=b"warm-up")
        headers = record_headers()
        meter = CpuMeter({"producer": os.getpid(), "broker": env.broker_pid}).start()
        started = time.perf_counter()
        futures = [
            await producer.send(topic, r["value"], key=r["key"].encode(), headers=headers)
            for r in records
        ]
        await asyncio.gather(*futures)
        seconds = time.perf_counter() - started
        meter.stop()
    finally:
        await producer.stop()
    return {
        "events": len(records),
        "seconds": round(seconds, 3),
        "events_per_s": round(len(records) / seconds, 1),
        "busiest_other_processes": meter.others_by_name,
        "cores_used": {
            **meter.shares(),
            "rest of machine": round(meter.others_s() / meter.wall_s, 2),
        },
    }


async def run(env: Environment, events: int) -> dict[str, Any]:
    topic = f"bench.relay.{uuid.uuid4().hex[:8]}"
    await ensure_topics(env.settings, [topic])
    relay = await measure_relay(env, topic, events)
    raw = await measure_raw_producer(env, topic, events)
    return {
        "events": events,
        "topic_partitions": env.settings.topic_partitions,
        "labourx": relay,
        "reference": raw,
        "throughput_ratio": round(relay["events_per_s"] / raw["events_per_s"], 3),
    }
