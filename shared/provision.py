"""Creating what services need before they start: databases, migrations, topics."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from shared.db import ensure_database
from shared.events.topics import AGGREGATE_TOPICS, dead_letter_topic
from shared.kafka import ensure_topics
from shared.migrations import upgrade
from shared.settings import Settings
from shared.spec import ServiceSpec


async def prepare_databases(settings: Settings, specs: Iterable[ServiceSpec]) -> None:
    """Create each service's database if missing and run its migrations to head."""
    for spec in specs:
        await ensure_database(settings, spec.name)
        # Alembic runs its own event loop, so it gets a thread of its own.
        await asyncio.to_thread(upgrade, spec, settings)


def all_topics(specs: Iterable[ServiceSpec]) -> list[str]:
    topics = list(AGGREGATE_TOPICS)
    for spec in specs:
        topics += spec.publishes
        for consumer in spec.consumers:
            topics += [*consumer.subscribed, dead_letter_topic(consumer.group)]
    return list(dict.fromkeys(topics))


async def prepare_topics(settings: Settings, specs: Iterable[ServiceSpec]) -> list[str]:
    """Create every aggregate, retry and dead-letter topic; returns the ones created."""
    return await ensure_topics(settings, all_topics(specs))
