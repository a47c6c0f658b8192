"""Async engine and session per service database, and the one declarative base."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import DateTime, Integer, MetaData, func, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.util import await_, greenlet_spawn

from shared.settings import Settings, with_database

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every table. Each service's migrations create only its own tables."""

    metadata = MetaData(naming_convention=NAMING)


# Columns many tables repeat, declared once. A mixin's columns come after the model's own in the
# table (a model's column that follows them in its table says `sort_order=1`); a table whose
# column differs in any detail (no server default, `onupdate`, no Python default) declares its
# own.


class CreatedAt:
    """`created_at`: when the row was written, the database's clock unless the code sets it."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Timestamps:
    """`created_at` and `updated_at`, both the database's clock unless the code sets them; the
    code that changes a row sets `updated_at` (no `onupdate`)."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Versioned:
    """`version`: 1 for a new row, raised by the code on each change (what an ETag and
    `If-Match` compare, where a route offers them)."""

    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


def create_engine(settings: Settings, service: str) -> AsyncEngine:
    """Engine for a service's own database, with a pool sized per process by settings."""
    return create_async_engine(
        settings.service_database_url(service),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
        # Off by default: with asyncpg a ping is three round trips on every checkout, about a
        # fifth of a registration's cost. After a database restart the first statement on each
        # stale connection fails instead (a 503 the client retries; relay and consumers retry
        # on their own) and SQLAlchemy then replaces the whole pool.
        pool_pre_ping=settings.db_pool_pre_ping,
        pool_recycle=1800,
        # JIT compiling pays off for long analytical queries; for a request's queries its
        # 20 to 30 ms of compilation on every plan above jit_above_cost is pure latency.
        connect_args={"server_settings": {"jit": "off"}},
        # An error's text then says which statement failed, never with what values (a
        # person's phone or name in a unique violation would otherwise reach every log).
        hide_parameters=True,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def request_transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit on success, roll back on any error."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    session = sessions()
    try:
        yield session
    except BaseException:
        await _to_completion(greenlet_spawn(_end, session.sync_session, False))
        raise
    await _to_completion(greenlet_spawn(_end, session.sync_session, True))


def _end(session: Session, commit: bool) -> None:
    """Commit (or roll back) the request's transaction, then close the session: one greenlet
    and one task for the two, where the session's own `commit` and `close` (its context
    manager's exit) each took a greenlet and a task of their own."""
    try:
        if commit:
            try:
                session.commit()
            except BaseException:
                session.rollback()
                raise
        else:
            session.rollback()
    finally:
        session.close()


async def _to_completion(ending: Coroutine[Any, Any, None]) -> None:
    """Run `ending` to its end in a task of its own, even if the request's task is cancelled
    meanwhile (a client gone mid-commit must not leave the connection in an unknown state:
    sqlalchemy #6652, #8145); a cancellation is raised once it has ended, as the session's own
    context manager does for its close."""
    task = asyncio.ensure_future(ending)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as error:
            if task.done():
                raise
            cancelled = error
        else:
            break
    if cancelled is not None:
        raise cancelled


# scope="function": the commit happens before the response is sent, so a failed commit can
# never be answered with a success.
SessionDep = Annotated[AsyncSession, Depends(request_transaction, scope="function")]


async def clock_now(session: AsyncSession) -> datetime:
    """The database's clock_timestamp(): unlike now(), it orders changes made one after the
    other under a row lock by when they were written, not by when their transactions began."""
    now: datetime = (await session.execute(select(func.clock_timestamp()))).scalar_one()
    return now


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `session`'s transaction, the transaction begun on it: for a
    hot write whose statement is fixed (an outbox row, an audit entry), run there directly it
    costs a fraction of the ORM session's path (statement cache lookup, parameter processing,
    result objects and a greenlet switch per statement), in the same transaction all the same.

    Errors are asyncpg's own (the problem handlers answer them as SQLAlchemy's), but for the
    BEGIN's, which are SQLAlchemy's as the session's own would be (a lost connection
    invalidated, a stopped database answered 503)."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_DRIVER)
    if held is not None and transaction is not None and held[0] is transaction:
        kept: asyncpg.Connection = held[1]
        return kept
    adapted = await session.run_sync(_adapted_connection)
    connection: asyncpg.Connection = adapted.driver_connection
    session.info[_DRIVER] = (session.sync_session.get_transaction(), connection)
    return connection


# The driver connection of the session's transaction, kept in `session.info` with that
# transaction (held, so that no later one can be taken for it): asking SQLAlchemy for it costs a
# greenlet switch, and a registration's outbox rows, audit entries and statements ask several
# times.
_DRIVER = "labourx.driver_connection"


def _adapted_connection(session: Session) -> Any:
    """The session's pooled connection (checked out and its transaction begun, as for any
    statement), as SQLAlchemy's asyncpg adapter (`AsyncAdapt_asyncpg_connection`)."""
    connection = session.connection()
    adapted: Any = connection.connection.dbapi_connection
    # SQLAlchemy's asyncpg adapter sends BEGIN with the first statement it runs itself: a
    # statement run here first would otherwise commit on its own, whatever the session does.
    if adapted._transaction is None and adapted.isolation_level != "autocommit":
        try:
            await_(adapted._start_transaction())
        except Exception as error:  # the adapter's DBAPI error, wrapped as a statement's is
            connection._handle_dbapi_exception(error, "BEGIN", None, None, None)
    return adapted


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """The plain libpq-style DSN asyncpg wants, from a SQLAlchemy URL."""
    return with_database(sqlalchemy_url, "postgresql")


async def ensure_database(settings: Settings, service: str) -> bool:
    """Create a service's database if missing; returns True when it was created."""
    name = settings.database_name(service)
    conn = await asyncpg.connect(asyncpg_dsn(settings.admin_database_url()))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    except asyncpg.DuplicateDatabaseError:
        return False
    finally:
        await conn.close()


async def drop_database(settings: Settings, service: str) -> None:
    """Drop a service's database (tests only)."""
    conn = await asyncpg.connect(asyncpg_dsn(settings.admin_database_url()))
    try:
        await conn.execute(
            f'DROP DATABASE IF EXISTS "{settings.database_name(service)}" WITH (FORCE)'
        )
    finally:
        await conn.close()
