"""Scheduled jobs: each pass in its own transaction, repeated until the process is stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import asyncpg
from prometheus_client import Counter

from shared import clock
from shared.aio import first_of, sleep_or_stop
from shared.work import Resources, Work

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings
    from shared.spec import PeriodicJob

log = logging.getLogger(__name__)

JOB_ITEMS = Counter("labourx_job_items_total", "Items handled by scheduled jobs", ["job"])
JOB_FAILURES = Counter("labourx_job_failures_total", "Failed passes of scheduled jobs", ["job"])


async def run_once(
    job: PeriodicJob,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    today: date | None = None,
    *,
    resources: Resources | None = None,
) -> int:
    """One pass of `job`, committed when it succeeds. Without `resources` (the jobs runner's),
    what the pass opens to keep is closed after it."""
    if resources is None:
        own = Resources()
        try:
            return await run_once(job, settings, sessions, today, resources=own)
        finally:
            await own.aclose()
    async with sessions() as session, session.begin():
        work = Work(session, settings, sessions, today or clock.today(), resources)
        handled = await job.run(work)
    JOB_ITEMS.labels(job.name).inc(handled)
    return handled


async def run_periodic(
    jobs: Sequence[PeriodicJob],
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
    *,
    dsn: str | None = None,
) -> None:
    """Run every job on its own interval until `stop`; a failed pass is logged and retried.
    With `dsn` (the service database, libpq form), jobs that name a `wake_on` channel also run
    as soon as it is notified. What the passes open to keep (`shared.work.Resources`) lives until
    the jobs stop."""
    wakers = {job.wake_on: asyncio.Event() for job in jobs if job.wake_on}
    resources = Resources()
    tasks = [
        _repeat(
            job, settings, sessions, resources, stop, wakers[job.wake_on] if job.wake_on else None
        )
        for job in jobs
    ]
    if wakers and dsn:
        tasks.append(_listen(dsn, wakers, stop))
    try:
        await asyncio.gather(*tasks)
    finally:
        await resources.aclose()


async def _repeat(
    job: PeriodicJob,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    resources: Resources,
    stop: asyncio.Event,
    woken: asyncio.Event | None = None,
) -> None:
    interval = job.interval_s if job.interval_s is not None else settings.jobs_interval_s
    while not stop.is_set():
        if woken is not None:
            # Cleared before the pass: a notification during it brings another pass.
            woken.clear()
        try:
            handled = await run_once(job, settings, sessions, resources=resources)
            if handled:
                log.info("job pass", extra={"job": job.name, "handled": handled})
                continue  # there may be more right behind: a backlog drains pass after pass
        except Exception:
            JOB_FAILURES.labels(job.name).inc()
            log.exception("job pass failed", extra={"job": job.name})
        with contextlib.suppress(TimeoutError):
            waits = (stop,) if woken is None else (stop, woken)
            await asyncio.wait_for(first_of(*waits), interval)


async def _listen(dsn: str, wakers: dict[str, asyncio.Event], stop: asyncio.Event) -> None:
    """LISTEN on the jobs' channels on a connection of its own, as long as the jobs run; a lost
    connection is opened again (passes meanwhile fall back to their intervals)."""
    backoff = 0.5
    while not stop.is_set():
        try:
            conn = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("jobs cannot listen for work yet: %s", exc)
            await sleep_or_stop(stop, backoff)
            backoff = min(backoff * 2, 10)
            continue
        backoff = 0.5
        try:
            for channel, event in wakers.items():
                await conn.add_listener(channel, lambda *_, event=event: event.set())
            # Whatever was written before listening began is found by the first passes.
            for event in wakers.values():
                event.set()
            while not stop.is_set() and not conn.is_closed():
                await sleep_or_stop(stop, 5)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("jobs lost their listening connection: %s", exc)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)
