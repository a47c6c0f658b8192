"""Producer, consumer and admin clients configured one way for every process."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.settings import Settings

log = logging.getLogger(__name__)


def make_producer(settings: Settings, *, linger_ms: int = 5) -> AIOKafkaProducer:
    """A producer that only counts a record sent once every in-sync replica has it."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=linger_ms,
        request_timeout_ms=15_000,
        retry_backoff_ms=200,
    )


def make_consumer(settings: Settings, group: str, topics: Iterable[str]) -> AIOKafkaConsumer:
    """A group consumer whose offsets move only when the runner commits them."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
        max_poll_records=500,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        metadata_max_age_ms=30_000,
    )


async def ensure_topics(settings: Settings, topics: Iterable[str]) -> list[str]:
    """Create missing topics with the configured partitions and replication; returns those made."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if missing:
            # Another process may race us to it.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            t,
                            num_partitions=settings.topic_partitions,
                            replication_factor=settings.topic_replication_factor,
                        )
                        for t in missing
                    ]
                )
        return missing
    finally:
        await admin.close()
