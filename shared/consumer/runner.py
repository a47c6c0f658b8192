"""Consumer runner on aiokafka: at-least-once on the wire, effectively-once in state.

Per record: the handler runs in its own transaction together with an insert of
`(consumer, event_id)` into the inbox, so a redelivered event is skipped. Offsets are committed
only after those transactions. Records that cannot be applied go to `dlq.<group>` and never
block their partition; a database or broker that is down is retried, never dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

from aiokafka.errors import CommitFailedError, KafkaError
from pydantic import ValidationError
from sqlalchemy import ARRAY, String, Uuid, bindparam, text
from sqlalchemy.dialects.postgresql import insert

from shared import clock, dberrors
from shared.aio import sleep_or_stop
from shared.consumer.models import InboxRecord
from shared.context import causation_id_var, correlation_id_var
from shared.events.base import CATALOGUE, Event, parse_data
from shared.events.envelope import CloudEvent
from shared.events.topics import dead_letter_topic
from shared.kafka import ensure_topics, make_consumer, make_producer
from shared.observability import (
    CONSUMER_LAG,
    CONSUMER_RESTARTS,
    DEAD_LETTERS,
    EVENTS_CONSUMED,
    HANDLER_SECONDS,
)
from shared.work import Resources, Work

if TYPE_CHECKING:
    import uuid

    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings

log = logging.getLogger(__name__)

# A handler applies one event in the transaction `work.session` (see `shared.work.Work`).
Handler = Callable[[Work, CloudEvent, Event], Awaitable[None]]
# One record of a batch as parsed: its envelope, and its payload and handler when the group
# handles its type (None, None: a type it ignores).
_Step = tuple["ConsumerRecord", CloudEvent, Event | None, Handler | None]


# Built once and run with parameters: building the statement per event cost more CPU than
# running it.
_CLAIM = (
    insert(cast("Table", InboxRecord.__table__))
    .on_conflict_do_nothing()
    .returning(InboxRecord.__table__.c.event_id)
)
# A batch's inbox rows in one statement: the ids it returns are the events not applied before
# (an id twice in the batch is returned once). One statement per event was a good part of a
# consumer's CPU per event.
_CLAIM_ALL = text(
    "INSERT INTO inbox (consumer, event_id, event_type)"
    " SELECT :consumer, claimed.event_id, claimed.event_type"
    " FROM unnest(:event_ids, :event_types) AS claimed (event_id, event_type)"
    " ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(
    bindparam("consumer", type_=String),
    bindparam("event_ids", type_=ARRAY(Uuid)),
    bindparam("event_types", type_=ARRAY(String)),
)


E = TypeVar("E", bound=Event)


class PoisonEvent(Exception):
    """Raised by a handler for an event that can never be applied as it is: dead-letter it now."""


def expect(payload: Event, kind: type[E]) -> E:
    """The payload as the model a handler was registered for; anything else is poison."""
    if not isinstance(payload, kind):
        raise PoisonEvent(f"expected {kind.__name__}, got {type(payload).__name__}")
    return payload


@dataclass(frozen=True)
class BatchHandler:
    """A handler with a step of its own for a whole batch: `prepare` runs once, in the batch's
    transaction, with the batch's events of this handler that are about to be applied (not
    those applied before), before any of them is; `apply` then applies each, as any handler.
    What every event needs from elsewhere (another service's answer) is then asked once a
    batch, not once an event. An event applied on its own (a batch of one, or one by one after
    a batch failed) gets no `prepare`: `apply` must not need it, only gain from it."""

    apply: Handler
    prepare: Callable[[Work, list[tuple[CloudEvent, Event]]], Awaitable[None]]

    async def __call__(self, work: Work, event: CloudEvent, payload: Event) -> None:
        await self.apply(work, event, payload)


def combine_handlers(*maps: Mapping[str, Handler]) -> dict[str, Handler]:
    """One handler per event type from several features' maps: where two features handle the
    same type, both run, in the order given, in the one transaction of that event."""
    chains: dict[str, list[Handler]] = {}
    for handlers in maps:
        for event_type, handler in handlers.items():
            chains.setdefault(event_type, []).append(handler)
    return {event_type: _chain(chain) for event_type, chain in chains.items()}


def _chain(handlers: list[Handler]) -> Handler:
    if len(handlers) == 1:
        return handlers[0]

    async def run_all(work: Work, event: CloudEvent, payload: Event) -> None:
        for handler in handlers:
            await handler(work, event, payload)

    return run_all


class _Restart(Exception):
    """Internal: tear the consumer down and join the group afresh, re-reading from commits."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DeadLetter:
    record: ConsumerRecord
    error: BaseException
    attempts: int


# How long the watchdog asks the client for a partition's position. aiokafka's `position()`
# waits until the client knows it, without end when its offset reset never completes (seen on
# Tansu after a restart): the watchdog hung there, and so did whoever waited for the runner to
# stop. The position is local state, known at once when there is one; a short ask that comes
# back empty is the answer "not known".
POSITION_ASK_S = 2.0


async def _known_position(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
    """The offset the client will fetch next from `tp`, or None when it does not know it."""
    try:
        position: int = await asyncio.wait_for(consumer.position(tp), POSITION_ASK_S)
    except (TimeoutError, KafkaError):
        return None
    return position


async def stop_client(consumer: AIOKafkaConsumer, group: str) -> None:
    """Stop the client (leaving the group), within 10 s, whatever it raises.

    aiokafka's fetcher cancels its fetch tasks on stop and awaits them; one that was backing
    off after a timed-out fetch (a loaded broker) re-raises that cancellation out of `stop()`.
    That CancelledError is not aimed at this task: passing it on made the runner's caller see a
    cancellation it never asked for (a test session lost its remaining teardowns to it). One
    aimed at this task (`cancelling()`) is passed on.
    """
    try:
        await asyncio.wait_for(consumer.stop(), 10)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        log.warning("consumer %s: the client's stop was cut short by its own fetch", group)
    except Exception as exc:
        log.warning("consumer %s did not stop cleanly: %r", group, exc)


class ConsumerRunner:
    """Consumes `topics` as consumer group `group`, applying events through `handlers`."""

    def __init__(
        self,
        settings: Settings,
        *,
        group: str,
        topics: list[str],
        handlers: Mapping[str, Handler],
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        unknown = set(handlers) - set(CATALOGUE)
        if unknown:
            raise ValueError(f"handlers for uncatalogued event types: {sorted(unknown)}")
        self.settings = settings
        self.group = group
        self.topics = topics
        self.handlers = dict(handlers)
        self.sessions = sessions
        self._dlq_producer: AIOKafkaProducer | None = None
        self._last_progress = time.monotonic()
        self._lag_reported: set[tuple[str, int]] = set()
        # What the handlers open to keep (see `shared.work`): closed when `run` ends.
        self.resources = Resources()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; restart the client when it stalls or loses its commits."""
        try:
            await self._run(stop)
        finally:
            await self.resources.aclose()

    async def _run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            consumer = make_consumer(self.settings, self.group, self.topics)
            try:
                await ensure_topics(self.settings, [*self.topics, dead_letter_topic(self.group)])
                if not await self._started(consumer, stop):
                    return
                backoff = 0.5
                await self._consume(consumer, stop)
            except _Restart as restart:
                CONSUMER_RESTARTS.labels(self.group, restart.reason).inc()
                log.warning("restarting consumer %s: %s", self.group, restart.reason)
            except (KafkaError, OSError) as exc:
                CONSUMER_RESTARTS.labels(self.group, "broker").inc()
                log.warning("consumer %s lost the broker: %r", self.group, exc)
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 10)
            finally:
                await stop_client(consumer, self.group)
                await self._close_dlq_producer()

    async def _started(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> bool:
        """Start the client; False when `stop` came first.

        aiokafka's `start()` waits until the group assigns partitions, without end: a group
        that never settles (seen on Tansu after a restart) kept the runner there, deaf to
        `stop` (a test's teardown waited for ever). So the start races `stop`, and a client
        that is not assigned in as long as the watchdog gives an unassigned one is restarted,
        as the watchdog would restart it."""
        starting = asyncio.ensure_future(consumer.start())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait(
                [starting, stopping],
                timeout=3 * self.settings.consumer_stall_timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            stopping.cancel()
            if not starting.done():
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await starting
        if starting in done:
            starting.result()  # its error, if it failed
            return True
        if stop.is_set():
            return False
        raise _Restart("no-assignment")

    async def _consume(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        self._last_progress = time.monotonic()
        watchdog_due = time.monotonic() + 5
        assigned: set[TopicPartition] = set()
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=500)
            if consumer.assignment() != assigned:
                assigned = set(consumer.assignment())
                log.info("consumer %s now owns %s", self.group, sorted(map(str, assigned)))
            await self._apply_fetched(consumer, batches, stop)
            if stop.is_set():
                return
            if batches:
                self._last_progress = time.monotonic()
            if time.monotonic() >= watchdog_due:
                await self._check_progress(consumer)
                watchdog_due = time.monotonic() + 5

    async def _apply_fetched(
        self,
        consumer: AIOKafkaConsumer,
        batches: dict[TopicPartition, list[ConsumerRecord]],
        stop: asyncio.Event,
    ) -> None:
        """What one fetch brought: every partition's records in one transaction, so that a
        batch's fixed costs (the commit, the inbox claim, a `BatchHandler`'s prepare step such
        as one call to registry for the keys of people met for the first time) are paid once
        per fetch rather than once per partition, one after the other. Records of different
        partitions are independent (an aggregate's events share one partition, in order), so
        applying them together changes no order. Any failure falls back to each partition on
        its own, as a partition's batch falls back to its records one by one."""
        if len(batches) > 1:
            parsed = [self._parsed(records) for records in batches.values()]
            steps = [step for part in parsed if part is not None for step in part]
            if None not in parsed and await self._apply_together(steps):
                await self._commit(
                    consumer, {tp: records[-1].offset + 1 for tp, records in batches.items()}
                )
                return
        for tp, records in batches.items():
            await self._apply_batch(consumer, tp, records, stop)
            if stop.is_set():
                return

    async def _apply_batch(
        self,
        consumer: AIOKafkaConsumer,
        tp: TopicPartition,
        records: list[ConsumerRecord],
        stop: asyncio.Event,
    ) -> None:
        done = None
        steps = self._parsed(records)
        if steps is not None and await self._apply_together(steps):
            done = records[-1].offset
        else:
            for i, record in enumerate(records):
                if stop.is_set():
                    break
                await self._apply_record(record, stop, steps[i] if steps else None)
                done = record.offset
        if done is not None:
            await self._commit(consumer, {tp: done + 1})

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit(offsets)
        except CommitFailedError as exc:
            # The group rebalanced under us: whoever owns the partition now re-reads from the
            # last commit and the inbox skips what we applied. Never skip ahead ourselves.
            raise _Restart("commit-failed") from exc

    def _parsed(self, records: list[ConsumerRecord]) -> list[_Step] | None:
        """Each record of a batch parsed once, for applying it together or one by one; None
        when one does not parse (the batch is then applied one by one, where it is set aside)."""
        steps: list[_Step] = []
        for record in records:
            try:
                event = CloudEvent.from_bytes(record.value or b"")
                handler = self.handlers.get(event.type)
                payload = parse_data(event.type, event.data) if handler else None
            except ValidationError:
                return None
            steps.append((record, event, payload, handler))
        return steps

    async def _apply_together(self, steps: list[_Step]) -> bool:
        """Apply a whole batch in one transaction; False (nothing applied) if any record fails.

        One commit per batch instead of one per record is what lets a consumer keep up with a
        busy topic. The batch's inbox rows are claimed in one statement, and only the events it
        claims are applied, so duplicates are skipped as before (and an event twice in the
        batch is applied once). On any failure the transaction rolls back and the caller
        applies the records one by one, where retries and dead-lettering are decided per record.
        """
        if len(steps) < 2:
            return False
        outcomes: list[tuple[str, str, float]] = []
        try:
            async with self.sessions() as session, session.begin():
                claimed = await self._claim_all(session, steps)
                todo: list[tuple[CloudEvent, Event, Handler]] = []
                for _, event, payload, handler in steps:
                    if handler is None or payload is None:
                        outcomes.append((event.type, "ignored", 0.0))
                    elif event.id not in claimed:
                        outcomes.append((event.type, "duplicate", 0.0))
                    else:
                        claimed.discard(event.id)  # a second copy later in the batch: duplicate
                        todo.append((event, payload, handler))
                await self._prepare(session, todo)
                for event, payload, handler in todo:
                    started = time.perf_counter()
                    await self._handle_in(session, event, payload, handler)
                    outcomes.append((event.type, "applied", time.perf_counter() - started))
        except Exception as exc:
            log.info("batch of %d failed (%r); applying one at a time", len(steps), exc)
            return False
        for event_type, outcome, seconds in outcomes:
            if outcome == "applied":
                HANDLER_SECONDS.labels(self.group, event_type).observe(seconds)
            EVENTS_CONSUMED.labels(self.group, event_type, outcome).inc()
        return True

    async def _prepare(
        self, session: AsyncSession, todo: list[tuple[CloudEvent, Event, Handler]]
    ) -> None:
        """Each `BatchHandler`'s `prepare`, once, with the batch's events it is about to apply."""
        batches: dict[BatchHandler, list[tuple[CloudEvent, Event]]] = {}
        for event, payload, handler in todo:
            if isinstance(handler, BatchHandler):
                batches.setdefault(handler, []).append((event, payload))
        if batches:
            work = Work(session, self.settings, self.sessions, clock.today(), self.resources)
            for handler, events in batches.items():
                await handler.prepare(work, events)

    async def _claim_all(self, session: AsyncSession, steps: list[_Step]) -> set[uuid.UUID]:
        """The inbox rows of the batch's handled events, in one statement: the ids of those
        not applied before."""
        handled = [(event.id, event.type) for _, event, _, handler in steps if handler]
        if not handled:
            return set()
        claimed = await session.execute(
            _CLAIM_ALL,
            {
                "consumer": self.group,
                "event_ids": [event_id for event_id, _ in handled],
                "event_types": [event_type for _, event_type in handled],
            },
        )
        return set(claimed.scalars())

    async def _apply_record(
        self, record: ConsumerRecord, stop: asyncio.Event, step: _Step | None = None
    ) -> None:
        if step is not None:
            _, event, payload, handler = step
        else:
            try:
                event = CloudEvent.from_bytes(record.value or b"")
            except ValidationError as exc:
                await self._dead_letter(DeadLetter(record, exc, 1))
                return
            handler = self.handlers.get(event.type)
            payload = None
        if handler is None:
            # Forward compatible: types we do not know are someone else's business.
            EVENTS_CONSUMED.labels(self.group, event.type, "ignored").inc()
            return
        if payload is None:
            try:
                payload = parse_data(event.type, event.data)
            except ValidationError as exc:
                await self._dead_letter(DeadLetter(record, exc, 1))
                return

        # Only what the handling of this record raised counts toward dead-lettering it: a
        # database that is down, restarting or out of connection slots is retried for as long
        # as it takes (dberrors.is_unavailable decides), and counts for nothing afterwards.
        failures = 0
        outage = 0  # infrastructure errors in a row, for the backoff only
        while True:
            started = time.perf_counter()
            try:
                applied = await self._apply_once(event, payload, handler)
            except PoisonEvent as exc:
                await self._dead_letter(DeadLetter(record, exc, failures + 1))
                return
            except Exception as exc:
                if dberrors.is_unavailable(exc):
                    outage += 1
                    log.warning("database unavailable applying %s, retrying: %r", event.id, exc)
                    await sleep_or_stop(stop, self._backoff(min(outage, 8)))
                    if stop.is_set():
                        raise _Restart("stopping") from exc
                    continue
                outage = 0
                failures += 1
                if failures >= self.settings.consumer_max_attempts:
                    await self._dead_letter(DeadLetter(record, exc, failures))
                    return
                log.warning("handler failed for %s (attempt %d): %r", event.id, failures, exc)
                await sleep_or_stop(stop, self._backoff(failures))
                continue
            HANDLER_SECONDS.labels(self.group, event.type).observe(time.perf_counter() - started)
            EVENTS_CONSUMED.labels(
                self.group, event.type, "applied" if applied else "duplicate"
            ).inc()
            return

    async def _apply_once(self, event: CloudEvent, payload: Event, handler: Handler) -> bool:
        """Apply in one transaction with the inbox row; False when it was applied before."""
        async with self.sessions() as session, session.begin():
            inserted = await session.execute(
                _CLAIM, {"consumer": self.group, "event_id": event.id, "event_type": event.type}
            )
            if inserted.first() is None:
                return False
            await self._handle_in(session, event, payload, handler)
            return True

    async def _handle_in(
        self, session: AsyncSession, event: CloudEvent, payload: Event, handler: Handler
    ) -> None:
        """The handler, in the caller's transaction (which holds the event's inbox row)."""
        tokens = (correlation_id_var.set(event.correlationid), causation_id_var.set(str(event.id)))
        try:
            work = Work(session, self.settings, self.sessions, clock.today(), self.resources)
            await handler(work, event, payload)
        finally:
            correlation_id_var.reset(tokens[0])
            causation_id_var.reset(tokens[1])

    def _backoff(self, attempt: int) -> float:
        return float(min(self.settings.consumer_retry_base_s * 2 ** (attempt - 1), 10.0))

    async def _dead_letter(self, dead: DeadLetter) -> None:
        """Publish to `dlq.<group>` and wait for the ack; if that fails the record is re-read."""
        record = dead.record
        if self._dlq_producer is None:
            self._dlq_producer = make_producer(self.settings)
            await self._dlq_producer.start()
        headers = [
            *[(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq-")],
            ("dlq-error", repr(dead.error)[:2000].encode()),
            ("dlq-error-type", type(dead.error).__name__.encode()),
            ("dlq-original-topic", record.topic.encode()),
            ("dlq-original-partition", str(record.partition).encode()),
            ("dlq-original-offset", str(record.offset).encode()),
            ("dlq-consumer-group", self.group.encode()),
            ("dlq-attempts", str(dead.attempts).encode()),
        ]
        await self._dlq_producer.send_and_wait(
            dead_letter_topic(self.group), record.value, key=record.key, headers=headers
        )
        DEAD_LETTERS.labels(self.group).inc()
        log.error(
            "dead-lettered %s:%s@%s after %d attempt(s): %r",
            record.topic,
            record.partition,
            record.offset,
            dead.attempts,
            dead.error,
        )

    async def _close_dlq_producer(self) -> None:
        if self._dlq_producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._dlq_producer.stop(), 5)
            self._dlq_producer = None

    async def _check_progress(self, consumer: AIOKafkaConsumer) -> None:
        """Restart a consumer that has records waiting but stopped receiving them.

        After a broker restart aiokafka can stop fetching without raising (aiokafka #1154,
        #625); comparing positions with the broker's end offsets is how we notice.
        """
        assigned = consumer.assignment()
        stalled_for = time.monotonic() - self._last_progress
        if not assigned:
            if stalled_for > 3 * self.settings.consumer_stall_timeout_s:
                raise _Restart("no-assignment")
            return
        try:
            ends = await asyncio.wait_for(consumer.end_offsets(list(assigned)), 10)
        except (KafkaError, TimeoutError) as exc:
            if stalled_for > self.settings.consumer_stall_timeout_s:
                raise _Restart("broker-unreachable") from exc
            return
        # A partition lost in a rebalance is another member's to report now: drop its series,
        # or its last value would count as lag forever.
        for topic, partition in self._lag_reported - {(tp.topic, tp.partition) for tp in ends}:
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(self.group, topic, str(partition))
        self._lag_reported = {(tp.topic, tp.partition) for tp in ends}
        behind = 0
        lags: dict[str, int] = {}
        for tp, end in ends.items():
            position = await _known_position(consumer, tp)
            # A partition whose position the client does not know counts as waiting whole:
            # a client that never learns it receives nothing, and must be restarted like any
            # other that stalled (it was counted as caught up, and never restarted).
            lag = max(end - (position or 0), 0)
            CONSUMER_LAG.labels(self.group, tp.topic, str(tp.partition)).set(lag)
            lags[f"{tp.topic}:{tp.partition}"] = lag
            behind += lag
        if behind == 0:
            self._last_progress = time.monotonic()
        elif stalled_for > self.settings.consumer_stall_timeout_s:
            log.warning(
                "consumer %s received nothing for %.0f s, lag %s", self.group, stalled_for, lags
            )
            raise _Restart("stalled")
