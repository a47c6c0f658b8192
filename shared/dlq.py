"""Replaying dead letters: each record goes to its group's retry topic, in order, once.

The retry topic (`retry.<group>`) is read by that group alone: the other groups reading the
original topic applied or dead-lettered those records already, and sending the records back
there made every one of them see (and dead-letter) the poison again.

Only the dead letters present when the replay starts are replayed. A record that is still
poison comes straight back into the dead-letter topic; reading "until the topic is idle" would
replay it again and again for as long as the consumer keeps rejecting it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from shared.events.topics import dead_letter_topic, retry_topic
from shared.kafka import ensure_topics, make_producer

if TYPE_CHECKING:
    from shared.settings import Settings


async def replay_dead_letters(settings: Settings, group: str) -> int:
    """Re-publish the dead letters of `group` not replayed before to `retry.<group>`; returns
    how many.

    Progress is committed as consumer group `<group>.dlq-replay`, so a second run skips what the
    first replayed. Consumers deduplicate by event id, so a record replayed twice (a replay
    killed between publish and commit) is still applied once.
    """
    topic = dead_letter_topic(group)
    target = retry_topic(group)
    # Same partition count as every topic, so a key lands on the same partition number.
    await ensure_topics(settings, [topic, target])
    # Assigned by hand (one replay at a time, no rebalance to wait for); the group id is only
    # where progress is committed.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=f"{group}.dlq-replay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = make_producer(settings)
    await consumer.start()
    await producer.start()
    try:
        await consumer.topics()  # loads the metadata partitions_for_topic reads
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        replayed = 0
        pending = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, records in batches.items():
                todo = [r for r in records if r.offset < ends[tp]]
                for record in todo:
                    await _send_back(producer, target, tp, record)
                replayed += len(todo)
                if todo:
                    await consumer.commit({tp: todo[-1].offset + 1})
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        return replayed
    finally:
        await producer.stop()
        await consumer.stop()


async def _send_back(
    producer: AIOKafkaProducer, target: str, tp: TopicPartition, record: ConsumerRecord
) -> None:
    """The record as it was first published (key, value, headers), plus where it came from."""
    kept = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq-")]
    kept.append(("dlq-replayed-from", f"{tp.topic}:{tp.partition}:{record.offset}".encode()))
    await producer.send_and_wait(target, record.value, key=record.key, headers=kept)
