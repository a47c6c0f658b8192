"""Notify's jobs start a pass when work is written, not on a one-second poll: a queued message
notifies the delivery job's channel at commit, and the job runner wakes on it (issue 14: an idle
`make run` costs almost nothing, and an SMS still leaves at once)."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import asyncpg
import pytest

from services.notify.delivery.jobs import JOBS as DELIVERY_JOBS
from services.notify.partners.jobs import JOBS as PARTNER_JOBS
from shared.db import create_engine, session_factory
from shared.jobs import run_periodic
from shared.settings import Settings, with_database
from shared.spec import PeriodicJob
from tests.notify.conftest import registered
from tests.support import wait_until

if TYPE_CHECKING:
    from datetime import date

    from aiokafka import AIOKafkaProducer

    from shared.work import Work

pytestmark = pytest.mark.usefixtures("notify_consumer")


def _dsn(settings: Settings) -> str:
    return with_database(settings.service_database_url("notify"), "postgresql")


async def test_a_queued_welcome_notifies_the_delivery_jobs_channel(
    migrated: Settings, producer: AIOKafkaProducer
) -> None:
    [job] = DELIVERY_JOBS
    assert job.wake_on
    heard: list[str] = []
    conn = await asyncpg.connect(_dsn(migrated))
    try:
        await conn.add_listener(job.wake_on, lambda *args: heard.append(args[2]))
        await registered(producer, migrated)  # the consumer queues the welcome SMS
        await wait_until(lambda: _true(heard), timeout_s=60)
    finally:
        await conn.close()


async def test_a_job_runs_as_soon_as_its_channel_is_notified_not_at_its_interval(
    migrated: Settings,
) -> None:
    channel = f"labourx_test_{uuid.uuid4().hex[:8]}"
    passes: list[date] = []

    async def count(work: Work) -> int:
        passes.append(work.today)
        return 0

    # An interval far longer than the wait below: only the notification can bring pass two.
    job = PeriodicJob("test-wakeup", count, interval_s=600.0, wake_on=channel)
    engine = create_engine(migrated, "notify")
    stop = asyncio.Event()
    runner = asyncio.create_task(
        run_periodic([job], migrated, session_factory(engine), stop, dsn=_dsn(migrated))
    )
    try:
        await wait_until(lambda: _true(passes), timeout_s=60)
        # The first pass may come from startup or from the listener's opening wake: settle.
        await asyncio.sleep(0.5)
        before = len(passes)
        conn = await asyncpg.connect(_dsn(migrated))
        try:
            await conn.execute(f"NOTIFY {channel}")
        finally:
            await conn.close()
        await wait_until(lambda: _true(len(passes) > before), timeout_s=60)
    finally:
        stop.set()
        await runner
        await engine.dispose()


def test_every_partner_queue_job_wakes_on_a_channel() -> None:
    queues = {job.name: job.wake_on for job in PARTNER_JOBS if job.name != "partner-consent-lapses"}
    assert queues == {
        "partner-webhooks": "labourx_notify_webhooks",
        "partner-history": "labourx_notify_partners",
        "partner-topics": "labourx_notify_partners",
    }


async def _true(value: object) -> bool:
    return bool(value)
