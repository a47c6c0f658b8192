"""Creating what services need before they start: databases, migrations, topics."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.db import ensure_database
from shared.events.topics import AGGREGATE_TOPICS, dead_letter_topic, topic_class
from shared.kafka import align_topic_configs, ensure_topics, existing_topics
from shared.migrations import upgrade

if TYPE_CHECKING:
    from collections.abc import Iterable

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


@dataclass(frozen=True)
class PreparedTopics:
    created: list[str]
    # Existing topics whose retention or cleanup policy was not their class's.
    reconfigured: list[str]


async def prepare_topics(settings: Settings, specs: Iterable[ServiceSpec]) -> PreparedTopics:
    """Create every aggregate, retry and dead-letter topic with the retention of its class, and
    give that retention to every labourx topic that exists already: a changed setting takes
    effect by running this again. Partners' topics (made by notify's jobs) are found on the
    broker by their names' class."""
    wanted = all_topics(specs)
    created = await ensure_topics(settings, wanted)
    found = [t for t in await existing_topics(settings) if topic_class(t) is not None]
    existing = [t for t in dict.fromkeys([*wanted, *found]) if t not in created]
    return PreparedTopics(created, await align_topic_configs(settings, existing))
