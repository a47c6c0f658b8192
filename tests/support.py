"""Helpers for tests that start real processes and wait for real effects."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg

from shared.db import asyncpg_dsn
from shared.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment that makes a child process use the same servers and databases as the test."""
    env = dict(os.environ)
    env.update(
        LABOURX_DATABASE_URL=str(settings.database_url),
        LABOURX_DATABASE_PREFIX=settings.database_prefix,
        LABOURX_KAFKA_BOOTSTRAP_SERVERS=settings.bootstrap_servers,
        LABOURX_CONSUMER_SESSION_TIMEOUT_MS=str(settings.consumer_session_timeout_ms),
        LABOURX_CONSUMER_HEARTBEAT_INTERVAL_MS=str(settings.consumer_heartbeat_interval_ms),
        LABOURX_CONSUMER_STALL_TIMEOUT_S=str(settings.consumer_stall_timeout_s),
        LABOURX_RELAY_POLL_INTERVAL_S=str(settings.relay_poll_interval_s),
        LABOURX_ENV="test",
        PYTHONUNBUFFERED="1",  # a child killed with SIGKILL still leaves its log
        # Children log warnings only unless a debugging run asks for more.
        LABOURX_LOG_LEVEL=os.environ.get("LABOURX_TEST_CHILD_LOG_LEVEL", "WARNING"),
    )
    return env


def spawn_cli(
    args: list[str], settings: Settings, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `labourx <args>` as its own process, as the dev runner does."""
    return spawn_module("shared.cli", args, settings, log)


def spawn_module(
    module: str, args: list[str], settings: Settings, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `python -m <module> <args>` with the test's servers and databases."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        env=settings_env(settings),
        cwd=REPO,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def stop_process(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_until(
    check: Callable[[], Awaitable[Any]], timeout_s: float = 30.0, interval_s: float = 0.1
) -> Any:
    """Poll `check` until it returns something truthy; fail with its last value otherwise."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s}s (last value: {last!r})")


async def fetchval(settings: Settings, service: str, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(asyncpg_dsn(settings.service_database_url(service)))
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def fetch(settings: Settings, service: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(settings.service_database_url(service)))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


def jobseeker(**overrides: Any) -> dict[str, Any]:
    """A valid minimal registration body."""
    body: dict[str, Any] = {
        "given_name_lo": "ສົມສັກ",
        "family_name_lo": "ພົມມະຈັນ",
        "given_name_en": "Somsak",
        "family_name_en": "Phommachan",
        "sex": "male",
        "date_of_birth": date(1998, 4, 2).isoformat(),
        "phone": "020 5555 1234",
        "province_code": "LA-VT",
    }
    body.update(overrides)
    return body
