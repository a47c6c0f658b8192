"""The servers and databases one benchmark run uses, and the machine it runs on.

Like the test fixtures: `LABOURX_DATABASE_URL` / `LABOURX_KAFKA_BOOTSTRAP_SERVERS` point at
existing servers when set; otherwise an embedded PostgreSQL (in a temporary directory) and a
Tansu broker are started for the run. Databases get a unique prefix and are dropped at the end.
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import psutil

from bench.tree import SERVICES
from shared.db import asyncpg_dsn, drop_database, ensure_database
from shared.infra import EmbeddedPostgres, TansuBroker
from shared.provision import prepare_databases, prepare_topics
from shared.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[1]
BENCH_SERVICES = ("registry", "notify")  # what most figures exercise
PIPELINE_SERVICES = ("registry", "notify", "matching", "predeparture")  # every consumer's too
REFERENCE_DATABASE = "reference"  # the reference app's own database, same server


@dataclass
class Environment:
    settings: Settings
    log_dir: Path
    postgres_pid: int | None  # None when the server is external (its CPU is not ours to see)
    broker_pid: int | None
    database_kind: str
    broker_kind: str
    # The registry API of the figure running (`start_labourx_api`), where its consumers fetch
    # person keys (shared/sealing_consumer.py).
    registry_url: str | None = None

    def child_env(self) -> dict[str, str]:
        """Environment that points a labourx child process at this run's servers and databases."""
        env = dict(os.environ)
        env.update(
            LABOURX_DATABASE_URL=str(self.settings.database_url),
            LABOURX_DATABASE_PREFIX=self.settings.database_prefix,
            LABOURX_KAFKA_BOOTSTRAP_SERVERS=self.settings.bootstrap_servers,
            LABOURX_TOPIC_PARTITIONS=str(self.settings.topic_partitions),
        )
        if self.registry_url is not None:
            env["LABOURX_REGISTRY_URL"] = self.registry_url
        return env

    def dsn(self, database: str) -> str:
        """asyncpg DSN of a service's database (or of the reference's)."""
        return asyncpg_dsn(self.settings.service_database_url(database))


@contextlib.contextmanager
def servers(work_dir: Path, log_dir: Path) -> Iterator[Environment]:
    """Configured servers, or embedded ones started (and stopped) here."""
    settings = Settings(database_prefix=f"lxbench_{uuid.uuid4().hex[:8]}_")
    postgres: EmbeddedPostgres | None = None
    broker: TansuBroker | None = None
    try:
        overrides: dict[str, Any] = {}
        postgres_pid = None
        if not settings.database_url:
            postgres = EmbeddedPostgres(work_dir / "postgres")
            overrides["database_url"] = postgres.start()
            postgres_pid = _postmaster_pid(postgres.data_dir)
        if not settings.kafka_bootstrap_servers:
            broker = TansuBroker(log_path=log_dir / "tansu.log")
            overrides["kafka_bootstrap_servers"] = broker.start()
        yield Environment(
            settings=settings.model_copy(update=overrides),
            log_dir=log_dir,
            postgres_pid=postgres_pid,
            broker_pid=broker.process.pid if broker and broker.process else None,
            database_kind="embedded PostgreSQL" if postgres else "LABOURX_DATABASE_URL",
            broker_kind="Tansu (memory only)" if broker else "LABOURX_KAFKA_BOOTSTRAP_SERVERS",
        )
    finally:
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()


def _postmaster_pid(data_dir: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    return None


async def provision(env: Environment, services: tuple[str, ...] = BENCH_SERVICES) -> None:
    """Migrated databases of `services`, their topics, and an empty reference database."""
    specs = [SERVICES[name] for name in services]
    await prepare_databases(env.settings, specs)
    await prepare_topics(env.settings, specs)
    await ensure_database(env.settings, REFERENCE_DATABASE)


async def teardown(env: Environment) -> None:
    for name in (*PIPELINE_SERVICES, REFERENCE_DATABASE):
        with contextlib.suppress(Exception):
            await drop_database(env.settings, name)


async def machine(env: Environment) -> dict[str, Any]:
    """What the figures were measured on: they mean little without it."""
    conn = await asyncpg.connect(env.dsn("registry"))
    try:
        server_version = await conn.fetchval("SHOW server_version")
        synchronous_commit = await conn.fetchval("SHOW synchronous_commit")
    finally:
        await conn.close()
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "postgresql": f"{server_version} ({env.database_kind}, "
        f"synchronous_commit={synchronous_commit})",
        "broker": env.broker_kind,
        "commit": _git_commit(),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' (with uncommitted changes)' if dirty else ''}"
