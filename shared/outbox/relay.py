"""The outbox relay: publishes unsent rows in id order, one active relay per service.

Leadership is a Postgres advisory lock held on the relay's own connection, so a relay that dies
(even by SIGKILL) releases it with its connection and a standby takes over. All reads and marks
go through that same connection: a relay that lost its connection, and so its lock, cannot mark
anything sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg

from shared.aio import first_of, sleep_or_stop
from shared.events.envelope import record_headers
from shared.kafka import ensure_topics, make_producer
from shared.observability import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISH_ERRORS,
    OUTBOX_PUBLISHED,
    RELAY_LEADER,
)
from shared.outbox import NOTIFY_CHANNEL
from shared.settings import Settings, with_database

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

log = logging.getLogger(__name__)

SELECT_UNSENT = """
    SELECT id, topic, key, value FROM outbox
    WHERE sent_at IS NULL ORDER BY id LIMIT $1
"""
MARK_SENT = "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])"
BACKLOG = (
    "SELECT count(*), extract(epoch FROM now() - min(created_at)) FROM outbox WHERE sent_at IS NULL"
)
PURGE_SENT = "DELETE FROM outbox WHERE sent_at < now() - make_interval(days => $1)"
# Stored answers of `Idempotency-Key`s (shared/idempotency.py) past their retention: the same
# pass, as every service with an API runs a relay.
PURGE_ANSWERS = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(days => $1)"


def lock_key(service: str) -> int:
    """A stable 32-bit advisory lock id per service."""
    return zlib.crc32(f"labourx-outbox-relay:{service}".encode())


@dataclass
class _Row:
    id: int
    topic: str
    key: str
    value: bytes


class OutboxRelay:
    """Runs until `stop` is set: waits for leadership, then publishes."""

    def __init__(self, settings: Settings, service: str) -> None:
        self.settings = settings
        self.service = service
        # Topics known to exist on the broker. The relay creates a row's topic before its first
        # send (a development broker forgets topics when it restarts; notify writes to partner
        # topics made as partners subscribe), so it needs no list of them, nor the service code.
        self._topics_made: set[str] = set()
        self.dsn = with_database(settings.service_database_url(service), "postgresql")
        self.is_leader = asyncio.Event()
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                await self._lead_when_possible(stop)
                backoff = 0.5
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("relay lost its database connection: %s", exc)
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 10)
            finally:
                self.is_leader.clear()
                RELAY_LEADER.labels(self.service).set(0)

    async def _lead_when_possible(self, stop: asyncio.Event) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn)
        try:
            while not await conn.fetchval(
                "SELECT pg_try_advisory_lock($1)", lock_key(self.service)
            ):
                if await sleep_or_stop(stop, self.settings.relay_poll_interval_s):
                    return
            log.info("relay for %s is now the leader", self.service)
            self.is_leader.set()
            RELAY_LEADER.labels(self.service).set(1)
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            await self._publish_loop(conn, stop)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _publish_loop(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        producer: AIOKafkaProducer | None = None
        backoff = 0.2
        purge_due = backlog_due = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                if conn.is_closed():
                    raise asyncpg.InterfaceError("relay connection closed")
                try:
                    if producer is None:
                        producer = make_producer(self.settings)
                        await producer.start()
                        self._topics_made.clear()
                    # Cleared before reading, not after: a NOTIFY that arrives while this batch
                    # is read and published must wake the next round, not wait for the poll.
                    self._wake.clear()
                    drained = await self._drain(conn, producer)
                    backoff = 0.2
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    raise
                except Exception as exc:
                    # Broker trouble: the rows stay unsent and are retried; nothing is lost.
                    OUTBOX_PUBLISH_ERRORS.labels(self.service).inc()
                    log.warning("publishing failed, will retry: %r", exc)
                    if producer is not None:
                        with contextlib.suppress(Exception):
                            await asyncio.wait_for(producer.stop(), 5)
                    producer = None
                    await sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, 5)
                    continue
                if drained:
                    continue  # a full batch: there may be more right behind it
                if loop.time() >= backlog_due:  # a gauge: once a second is plenty
                    await self._observe_backlog(conn)
                    backlog_due = loop.time() + 1
                if loop.time() >= purge_due:
                    await conn.execute(PURGE_SENT, 7)
                    await conn.execute(PURGE_ANSWERS, self.settings.idempotency_key_retention_days)
                    purge_due = loop.time() + 600
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        first_of(self._wake, stop), self.settings.relay_poll_interval_s
                    )
        finally:
            if producer is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(producer.stop(), 5)

    async def _drain(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> bool:
        """Publish one batch; True when the batch was full."""
        batch = self.settings.relay_batch_size
        rows = [_Row(*r) for r in await conn.fetch(SELECT_UNSENT, batch)]
        if not rows:
            return False
        if new_topics := {r.topic for r in rows} - self._topics_made:
            await ensure_topics(self.settings, sorted(new_topics))
            self._topics_made |= new_topics
        headers = record_headers()
        futures = [
            await producer.send(r.topic, r.value, key=r.key.encode(), headers=headers) for r in rows
        ]
        results = await asyncio.gather(*futures, return_exceptions=True)
        failed_keys: set[str] = set()
        sent: list[int] = []
        for row, result in zip(rows, results, strict=True):
            # A row whose key already failed in this batch is not marked: its key's
            # events are sent again, in order, on the next attempt.
            if isinstance(result, BaseException) or row.key in failed_keys:
                failed_keys.add(row.key)
            else:
                sent.append(row.id)
        if sent:
            await conn.execute(MARK_SENT, sent)
            OUTBOX_PUBLISHED.labels(self.service).inc(len(sent))
        if failed_keys:
            first_error = next(r for r in results if isinstance(r, BaseException))
            raise first_error
        return len(rows) == batch

    async def _observe_backlog(self, conn: asyncpg.Connection) -> None:
        count, age = await conn.fetchrow(BACKLOG)
        OUTBOX_BACKLOG.labels(self.service).set(count)
        OUTBOX_OLDEST_AGE.labels(self.service).set(float(age or 0))
