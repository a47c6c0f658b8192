"""notify's consumer with a probe: every application also writes a row to `fault_applied`.

`fault_applied` has no unique constraint, unlike notify's own tables, so an event applied twice
shows as two rows instead of being absorbed. Run as `python -m tests.faults.counting_consumer`
with the `LABOURX_*` environment of the test.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import text

from services.notify.app import SPEC as NOTIFY
from shared.db import create_engine, session_factory
from shared.events.registry import PersonRegistered
from shared.observability import configure_logging
from shared.runtime import run_until_signalled
from shared.settings import Settings

if TYPE_CHECKING:
    from shared.events import CloudEvent, Event
    from shared.work import Work

PROBE_TABLE = "CREATE TABLE IF NOT EXISTS fault_applied (event_id uuid NOT NULL)"


async def counted(work: Work, event: CloudEvent, payload: Event) -> None:
    await work.session.execute(
        text("INSERT INTO fault_applied (event_id) VALUES (:id)"), {"id": event.id}
    )
    await NOTIFY.consumers[0].handlers[PersonRegistered.event_type()](work, event, payload)
    # Slow enough that a batch takes about a second, so kills land inside transactions too.
    await asyncio.sleep(0.002)


def main() -> None:
    settings = Settings()
    configure_logging("notify-consumer-probe", settings.log_level)
    [consumer] = NOTIFY.consumers

    async def _run(stop: asyncio.Event) -> None:
        engine = create_engine(settings, "notify")
        try:
            handlers = {PersonRegistered.event_type(): counted}
            await consumer.runner(settings, session_factory(engine), handlers=handlers).run(stop)
        finally:
            await engine.dispose()

    run_until_signalled(_run)


if __name__ == "__main__":
    main()
