"""Each service's Alembic history builds exactly the tables its models declare, and reverses."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

import services.matching.agencies.models
import services.matching.candidates.models
import services.matching.employers.models
import services.matching.recruitment.models
import services.matching.referrals.models
import services.matching.vacancies.models
import services.notify.messages.models
import services.predeparture.attendance.models
import services.predeparture.completions.models
import services.predeparture.curricula.models
import services.predeparture.learners.models
import services.predeparture.outreach.models
import services.predeparture.sessions.models
import services.registry.audit.models
import services.registry.consent.models
import services.registry.imports.models
import services.registry.jobseekers.models
import services.registry.migration_records.models
import services.registry.offices.models
import services.registry.people.models  # noqa: F401  (registers the tables)
from labourx.catalog import SERVICES
from shared.db import Base, drop_database, ensure_database
from shared.migrations import alembic_config

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from shared.settings import Settings

BACKBONE = {"outbox", "inbox", "idempotency_keys"}


def tables_of(service: str) -> set[str]:
    owned = {
        str(getattr(mapper.local_table, "name", ""))
        for mapper in Base.registry.mappers
        if mapper.class_.__module__.startswith(f"services.{service}.")
    }
    return owned | BACKBONE


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_migrations_match_the_models_and_downgrade_cleanly(
    migrated: Settings, service: str
) -> None:
    settings = migrated.model_copy(update={"database_prefix": migrated.database_prefix + "mig_"})
    spec = SERVICES[service]
    await ensure_database(settings, service)
    try:
        cfg = alembic_config(spec, settings)
        await asyncio.to_thread(command.upgrade, cfg, "head")
        assert await _differences(settings, service) == []
        await asyncio.to_thread(command.downgrade, cfg, "base")
        await asyncio.to_thread(command.upgrade, cfg, "head")
        assert await _differences(settings, service) == []
    finally:
        await drop_database(settings, service)


async def _differences(settings: Settings, service: str) -> list[Any]:
    wanted = tables_of(service)

    def include(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
        table = obj if kind == "table" else getattr(obj, "table", None)
        return table is None or table.name in wanted or name in wanted

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "compare_type": True}
        )
        return list(compare_metadata(context, Base.metadata))

    engine = create_async_engine(settings.service_database_url(service))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()
