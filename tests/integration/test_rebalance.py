"""Consumers joining and leaving a group mid-stream: nothing lost, nothing applied twice."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import text

from shared.consumer import ConsumerRunner
from shared.db import create_engine, session_factory
from shared.events.envelope import record_headers
from shared.events.registry import PersonRegistered
from shared.kafka import ensure_topics, make_producer
from tests.events import registered
from tests.support import fetch, fetchval, wait_until

if TYPE_CHECKING:
    from shared.events import CloudEvent, Event
    from shared.settings import Settings
    from shared.work import Work

EVENTS = 1500


async def record_application(work: Work, event: CloudEvent, payload: Event) -> None:
    # No unique constraint here on purpose: a second application would show as a second row.
    await work.session.execute(
        text("INSERT INTO rebalance_applied (event_id) VALUES (:id)"), {"id": event.id}
    )
    await asyncio.sleep(0.002)  # slow enough that rebalances land mid-batch


async def test_members_joining_and_leaving_neither_lose_nor_repeat_events(
    migrated: Settings,
) -> None:
    await fetchval(
        migrated, "notify", "CREATE TABLE IF NOT EXISTS rebalance_applied (event_id uuid)"
    )
    topic = f"test.rebalance.{uuid.uuid4().hex[:8]}"
    group = f"rebalance-{uuid.uuid4().hex[:8]}"
    await ensure_topics(migrated, [topic])
    produced = set()
    producer = make_producer(migrated)
    await producer.start()
    try:
        for i in range(EVENTS):
            envelope = registered(i)
            produced.add(envelope.id)
            await producer.send(
                topic, envelope.to_bytes(), key=envelope.subject.encode(), headers=record_headers()
            )
        await producer.flush()
    finally:
        await producer.stop()

    engine = create_engine(migrated, "notify")
    handlers = {PersonRegistered.event_type(): record_application}

    def member() -> tuple[asyncio.Event, asyncio.Task[None]]:
        stop = asyncio.Event()
        runner = ConsumerRunner(
            migrated,
            group=group,
            topics=[topic],
            handlers=handlers,
            sessions=session_factory(engine),
        )
        return stop, asyncio.create_task(runner.run(stop))

    async def applied() -> int:
        return int(
            await fetchval(
                migrated,
                "notify",
                "SELECT count(*) FROM rebalance_applied WHERE event_id = ANY($1::uuid[])",
                list(produced),
            )
        )

    members = [member()]
    try:
        await wait_until(lambda: _more_than(applied, 100), timeout_s=60)
        members.append(member())  # a second member joins: partitions move
        await wait_until(lambda: _more_than(applied, 500), timeout_s=60)
        first_stop, first_task = members.pop(0)
        first_stop.set()  # the first leaves: its partitions move again
        await first_task
        members.append(member())
        await wait_until(lambda: _more_than(applied, EVENTS - 1), timeout_s=120)
        await asyncio.sleep(2)  # anything applied twice would arrive by now
    finally:
        for stop, task in members:
            stop.set()
            await task
        await engine.dispose()

    rows = await fetch(
        migrated,
        "notify",
        "SELECT event_id, count(*) AS n FROM rebalance_applied"
        " WHERE event_id = ANY($1::uuid[]) GROUP BY event_id",
        list(produced),
    )
    assert {r["event_id"] for r in rows} == produced
    assert max(r["n"] for r in rows) == 1


async def _more_than(count: object, threshold: int) -> bool:
    assert callable(count)
    return bool(await count() > threshold)
