"""One member of a consumer group for figure 11: labourx's own consumer runner and client settings.

Run as `python -m bench.recovery_member <group> <topic>` with a run's `LABOURX_*` environment
(the consumer settings under test among them). Each `person.registered` record it applies is
written, with the database's clock, to `bench_recovery` in notify's database: the benchmark
reads there when the partitions a killed member held were consumed again.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from sqlalchemy import text

from shared.consumer.runner import ConsumerRunner
from shared.db import create_engine, session_factory
from shared.events.registry import PersonRegistered
from shared.observability import configure_logging
from shared.runtime import run_until_signalled
from shared.settings import Settings

if TYPE_CHECKING:
    import asyncio

    from shared.events import CloudEvent, Event
    from shared.work import Work

PROBE_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_recovery "
    "(event_id uuid NOT NULL, partition int NOT NULL, applied_at timestamptz NOT NULL)"
)


async def record_probe(work: Work, event: CloudEvent, payload: Event) -> None:
    # The partition travels in the subject, which the benchmark sets per probe.
    await work.session.execute(
        text(
            "INSERT INTO bench_recovery (event_id, partition, applied_at) "
            "VALUES (:id, :partition, clock_timestamp())"
        ),
        {"id": event.id, "partition": int(event.subject.rsplit("/", 1)[-1])},
    )


def main() -> None:
    group, topic = sys.argv[1], sys.argv[2]
    settings = Settings()
    configure_logging(f"recovery-{group}", settings.log_level)

    async def _run(stop: asyncio.Event) -> None:
        engine = create_engine(settings, "notify")
        try:
            runner = ConsumerRunner(
                settings,
                group=group,
                topics=[topic],
                handlers={PersonRegistered.event_type(): record_probe},
                sessions=session_factory(engine),
            )
            # `run` ends with `consumer.stop()`, which sends LeaveGroup: the SIGTERM path.
            await runner.run(stop)
        finally:
            await engine.dispose()

    run_until_signalled(_run)


if __name__ == "__main__":
    main()
