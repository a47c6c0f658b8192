"""Scheduled jobs: each pass in its own transaction, repeated until the process is stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import date

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import clock
from shared.service import PeriodicJob
from shared.settings import Settings

log = logging.getLogger(__name__)

JOB_ITEMS = Counter("labourx_job_items_total", "Items handled by scheduled jobs", ["job"])
JOB_FAILURES = Counter("labourx_job_failures_total", "Failed passes of scheduled jobs", ["job"])


async def run_once(
    job: PeriodicJob,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    today: date | None = None,
) -> int:
    """One pass of `job`, committed when it succeeds."""
    async with sessions() as session, session.begin():
        handled = await job.run(session, settings, today or clock.today())
    JOB_ITEMS.labels(job.name).inc(handled)
    return handled


async def run_periodic(
    jobs: Sequence[PeriodicJob],
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
) -> None:
    """Run every job on its own interval until `stop`; a failed pass is logged and retried."""
    await asyncio.gather(*(_repeat(job, settings, sessions, stop) for job in jobs))


async def _repeat(
    job: PeriodicJob,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
) -> None:
    interval = job.interval_s if job.interval_s is not None else settings.jobs_interval_s
    while not stop.is_set():
        try:
            handled = await run_once(job, settings, sessions)
            if handled:
                log.info("job pass", extra={"job": job.name, "handled": handled})
        except Exception:
            JOB_FAILURES.labels(job.name).inc()
            log.exception("job pass failed", extra={"job": job.name})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
