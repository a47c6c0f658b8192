"""`dberrors.is_unavailable`: which errors say "the database cannot serve now, try again".

Each SQLSTATE class as asyncpg raises it, alone and under SQLAlchemy's wrapper as the consumer
and the API meet it; then the real thing from a real PostgreSQL, through SQLAlchemy: a port
nobody listens on, a session the server ends, an empty pool, and errors of the statement itself,
which are not infrastructure.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import asyncpg
import pytest
from asyncpg import exceptions as pg
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.db import asyncpg_dsn
from shared.dberrors import is_unavailable
from shared.infra import free_port

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from shared.settings import Settings

UNAVAILABLE = [
    pg.PostgresConnectionError,  # 08000
    pg.ClientCannotConnectError,  # 08001
    pg.ConnectionDoesNotExistError,  # 08003: connection was closed in the middle of operation
    pg.ConnectionRejectionError,  # 08004
    pg.ConnectionFailureError,  # 08006
    pg.InsufficientResourcesError,  # 53000
    pg.DiskFullError,  # 53100
    pg.OutOfMemoryError,  # 53200
    pg.TooManyConnectionsError,  # 53300: sorry, too many clients already
    pg.AdminShutdownError,  # 57P01: terminating connection due to administrator command
    pg.CrashShutdownError,  # 57P02
    pg.CannotConnectNowError,  # 57P03: the database system is starting up / shutting down
    pg.IdleSessionTimeoutError,  # 57P05
]
THE_STATEMENTS_OWN = [
    pg.QueryCanceledError,  # 57014: a statement timeout, the statement's own cost
    pg.DatabaseDroppedError,  # 57P04: trying again changes nothing
    pg.UniqueViolationError,  # 23505
    pg.PostgresSyntaxError,  # 42601
    pg.UndefinedTableError,  # 42P01
]


def _as_sqlalchemy_raises(error: Exception) -> sa_exc.DBAPIError:
    """`error` under the DBAPIError SQLAlchemy raises for it (`orig`, and chained as cause)."""
    try:
        try:
            raise error
        except Exception as driver:
            raise sa_exc.DBAPIError("SELECT 1", None, driver) from driver
    except sa_exc.DBAPIError as wrapped:
        return wrapped


@pytest.mark.parametrize("kind", UNAVAILABLE, ids=lambda k: f"{k.sqlstate}-{k.__name__}")
def test_connection_resource_and_shutdown_states_are_unavailable(kind: type[Exception]) -> None:
    assert is_unavailable(kind("message"))
    assert is_unavailable(_as_sqlalchemy_raises(kind("message")))


@pytest.mark.parametrize("kind", THE_STATEMENTS_OWN, ids=lambda k: f"{k.sqlstate}-{k.__name__}")
def test_errors_of_the_statement_are_not(kind: type[Exception]) -> None:
    assert not is_unavailable(kind("message"))
    assert not is_unavailable(_as_sqlalchemy_raises(kind("message")))


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
        socket.gaierror(-2, "Name or service not known"),
        OSError("Multiple exceptions: [Errno 111] ..., [Errno 99] ..."),
        pg.InterfaceError("cannot perform operation: connection is closed"),
        sa_exc.TimeoutError("QueuePool limit of size 5 overflow 5 reached"),
    ],
    ids=repr,
)
def test_the_network_and_the_pool_are_unavailable(error: Exception) -> None:
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError(2, "No such file"),
        PermissionError(13, "Permission denied"),
        pg.InterfaceError("cannot perform operation: another operation is in progress"),
        ValueError("a bug"),
        RuntimeError("a handler's own failure"),
    ],
    ids=repr,
)
def test_a_process_own_mistakes_are_not(error: Exception) -> None:
    assert not is_unavailable(error)


def test_an_error_raised_while_the_connection_was_lost_is_classified_by_that_cause() -> None:
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError:
            raise RuntimeError("could not finish") from None  # context kept, not shown
    except RuntimeError as error:
        lost_while = error
    assert lost_while.__context__ is not None
    assert is_unavailable(lost_while)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(
        settings.admin_database_url(), pool_size=1, max_overflow=0, pool_timeout=0.2
    )
    yield engine
    await engine.dispose()


async def test_real_errors_through_sqlalchemy(settings: Settings, engine: AsyncEngine) -> None:
    nobody = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/x")
    # pytest.raises(Exception): whatever arrives is what the test classifies, no narrower class.
    with pytest.raises(Exception) as refused:  # noqa: PT011 - classified below
        async with nobody.connect():
            pass
    await nobody.dispose()
    assert is_unavailable(refused.value), repr(refused.value)

    with pytest.raises(Exception) as ended:  # noqa: PT011 - classified below
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    assert is_unavailable(ended.value), repr(ended.value)

    async with engine.connect() as held:
        with pytest.raises(Exception) as no_connection:  # noqa: PT011 - classified below
            async with engine.connect():
                pass
        assert is_unavailable(no_connection.value), repr(no_connection.value)
        for statement in ("SELECT 1/0", "SELECT * FROM no_such_table", "SELEC 1"):
            with pytest.raises(sa_exc.DBAPIError) as wrong:
                await held.execute(text(statement))
            assert not is_unavailable(wrong.value), repr(wrong.value)
            await held.rollback()

    closed = await asyncpg.connect(asyncpg_dsn(settings.admin_database_url()))
    await closed.close()
    with pytest.raises(asyncpg.InterfaceError) as gone:
        await closed.execute("SELECT 1")
    assert is_unavailable(gone.value), repr(gone.value)
