"""Helpers for tests that start real processes and wait for real effects."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import uvicorn

from shared.db import asyncpg_dsn, create_engine, session_factory
from shared.events.envelope import CloudEvent, envelope_for
from tests.events import publish

if TYPE_CHECKING:
    import uuid
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

    from aiokafka import AIOKafkaProducer

    from shared.events import Event
    from shared.settings import Settings
    from shared.spec import ServiceSpec

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def postgres_data_dir(name: str) -> Iterator[Path]:
    """A folder for an embedded PostgreSQL's data, outside pytest's temporary folders.

    As root the embedded server runs as its own user, which needs to traverse the path to its
    data; pytest makes /tmp/pytest-of-<user> private (0700) whenever a pytest session starts, so
    a server under it dies when another session starts on the same machine (a shared machine
    runs several)."""
    folder = Path(tempfile.mkdtemp(prefix=f"labourx-{name}-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
        LABOURX_REGISTRY_URL=settings.registry_url,
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
    return spawn_module("labourx.cli", args, settings, log)


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


# How long an end-to-end test waits for an event to travel between services: on a loaded
# machine a consumer's request to the broker can hang until aiokafka's 40 s request timeout,
# after which it reconnects and catches up; the bound is for a system that is stuck.
EVENT_TRAVEL_S = 180.0


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


_people_made = itertools.count()
# Given names that the duplicate check cannot confuse with each other, one per test person,
# so that two tests never register "the same person" by accident.
_SYLLABLES_LO = ["ກາ", "ຄຳ", "ດາ", "ນາ", "ບຸນ", "ພອນ", "ມະ", "ລີ", "ວັນ", "ສີ", "ແກ້ວ", "ທອງ"]
_SYLLABLES_EN = ["Ka", "Kham", "Da", "Na", "Boun", "Phone", "Ma", "Li", "Van", "Si", "Keo", "Thong"]


def unique_names() -> dict[str, str]:
    """Lao and Latin given names unlike those of any other person made in this test run."""
    n = next(_people_made)
    digits = [(n // 12**i) % 12 for i in range(4)]
    return {
        "given_name_lo": "".join(_SYLLABLES_LO[d] for d in digits),
        "given_name_en": "".join(_SYLLABLES_EN[d] for d in digits).capitalize(),
        "date_of_birth": (date(1970, 1, 1) + timedelta(days=n)).isoformat(),
        "phone": f"+85620{55000000 + n}",
    }


def jobseeker(**overrides: Any) -> dict[str, Any]:
    """A valid registration body of a person no other call returns (names, birth date, phone)."""
    body: dict[str, Any] = {
        "family_name_lo": "ພົມມະຈັນ",
        "family_name_en": "Phommachan",
        "sex": "male",
        "province_code": "LA-VT",
        **unique_names(),
    }
    body.update(overrides)
    return body


# What a person agreed to at the counter so that notify may text them (it sends nothing on a
# channel without consent).
SMS_CONSENT = [{"purpose": "contact_sms", "status": "given", "method": "signed"}]


def full_registration(**overrides: Any) -> dict[str, Any]:
    """A registration with every part of the form filled in, unique like `jobseeker()`."""
    n = next(_people_made)
    body = jobseeker(
        ethnicity="khmu",
        disability={"seeing": "no_difficulty", "walking": "a_lot_of_difficulty"},
        email=f"person{n}@example.la",
        documents=[
            {"kind": "national_id", "number": f"01-{n:08d}"},
            {"kind": "family_book", "number": f"FB{n:07d}"},
            {"kind": "passport", "number": f"P{n:07d}", "expires_on": "2031-05-01"},
        ],
        district="Sisattanak",
        village="Ban Phonxay",
        education={"isced_level": 3},
        skills={
            "tags": ["welding", "Driving"],
            "certificates": [{"standard": "LNSS-welding", "level": 2}],
        },
        languages=[
            {"code": "lo", "proficiency": "native"},
            {"code": "tha", "proficiency": "basic"},
        ],
        experience=[{"isco08": "7212", "years": 2.5, "country": "TH"}],
        jobseeker={
            "desired_occupations": ["7212", "8322"],
            "preferred_provinces": ["LA-VT", "LA-CH"],
            "willing_to_work_abroad": True,
            "abroad_countries": ["TH"],
            "availability": "full_time",
        },
    )
    body.update(overrides)
    return body


def bearer(settings: Settings, subject: str, roles: list[str], **claims: Any) -> dict[str, str]:
    """Authorization header of a development token (`office`, `province`, `national`)."""
    from shared.auth import mint_token

    return {
        "Authorization": f"Bearer {mint_token(settings, subject=subject, roles=roles, **claims)}"
    }


@contextlib.asynccontextmanager
async def running_consumer(spec: ServiceSpec, settings: Settings) -> AsyncIterator[None]:
    """The service's consumer group running as a task, as `labourx consume` runs it."""
    stop = asyncio.Event()
    engine = create_engine(settings, spec.name)
    task = asyncio.create_task(
        spec.consumers[0].runner(settings, session_factory(engine)).run(stop)
    )
    try:
        yield
    finally:
        stop.set()
        await task
        await engine.dispose()


async def applied(settings: Settings, service: str, event_id: uuid.UUID) -> bool:
    """Whether `service`'s consumer has applied the event (its inbox holds the id)."""
    count = await fetchval(
        settings, service, "SELECT count(*) FROM inbox WHERE event_id = $1", event_id
    )
    return bool(count)


async def clear_upcoming_sessions(settings: Settings) -> None:
    """Move every orientation session other tests left scheduled into the past, where
    predeparture's automatic invitations never look (test setup, as if time had passed)."""
    await fetchval(
        settings,
        "predeparture",
        "WITH moved AS (UPDATE orientation_sessions"
        " SET starts_at = now() - interval '30 days', ends_at = now() - interval '29 days'"
        " WHERE status = 'scheduled' AND starts_at > now() RETURNING 1)"
        " SELECT count(*) FROM moved",
    )


async def deliver(
    producer: AIOKafkaProducer, settings: Settings, service: str, payload: Event
) -> CloudEvent:
    """Publish an event as its service's relay would; return once `service` has applied it."""
    envelope = envelope_for(payload)
    await publish(producer, envelope, payload.topic)
    await wait_until(lambda: applied(settings, service, envelope.id), timeout_s=30)
    return envelope


@contextlib.asynccontextmanager
async def registry_listening(settings: Settings) -> AsyncIterator[None]:
    """Registry's API served for real at `settings.registry_url` (in this process), as consumers
    reach it for the keys of registry's sealed person events (shared/sealing_consumer.py)."""
    from labourx.catalog import SERVICES
    from shared.app import create_app

    port = int(settings.registry_url.rsplit(":", 1)[1])
    app = create_app(SERVICES["registry"], settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: _started(server), timeout_s=30, interval_s=0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started
