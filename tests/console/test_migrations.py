"""The console's Alembic history builds exactly its table, and reverses."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

import services.console.auth.oidc_models
import services.console.sessions.models  # noqa: F401  (registers the tables)
from labourx.catalog import load
from shared.db import Base, drop_database, ensure_database
from shared.migrations import alembic_config

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from shared.settings import Settings

TABLES = {
    "console_sessions",
    "console_oidc_flows",
    "console_oidc_grants",
    "outbox",
    "inbox",
    "idempotency_keys",
}


async def test_console_migrations_match_the_models_and_downgrade_cleanly(
    console_settings: Settings,
) -> None:
    settings = console_settings.model_copy(
        update={"database_prefix": console_settings.database_prefix + "mig_"}
    )
    await ensure_database(settings, "console")
    try:
        cfg = alembic_config(load("console"), settings)
        await asyncio.to_thread(command.upgrade, cfg, "head")
        assert await _differences(settings) == []
        await asyncio.to_thread(command.downgrade, cfg, "base")
        await asyncio.to_thread(command.upgrade, cfg, "head")
        assert await _differences(settings) == []
    finally:
        await drop_database(settings, "console")


async def _differences(settings: Settings) -> list[Any]:
    def include(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
        table = obj if kind == "table" else getattr(obj, "table", None)
        return table is None or table.name in TABLES or name in TABLES

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "compare_type": True}
        )
        return list(compare_metadata(context, Base.metadata))

    engine = create_async_engine(settings.service_database_url("console"))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()
