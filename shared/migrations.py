"""Alembic wiring: one history per service, run by `labourx migrate` and by the dev runner."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from shared.settings import Settings
    from shared.spec import ServiceSpec

# The channel outbox_notify() signals, frozen here like the rest of the table helpers below,
# which old revisions call: a change of shared.outbox.NOTIFY_CHANNEL needs a new revision that
# replaces the function (tests/unit/test_frozen_migrations.py says so when they differ).
OUTBOX_NOTIFY_CHANNEL = "labourx_outbox"


def alembic_config(spec: ServiceSpec, settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(spec.migrations_dir))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(spec.migrations_dir / "versions"))
    cfg.attributes["database_url"] = settings.service_database_url(spec.name)
    cfg.attributes["service"] = spec.name
    return cfg


def upgrade(spec: ServiceSpec, settings: Settings, revision: str = "head") -> None:
    """Bring a service's database to `revision` (blocking: Alembic drives its own loop)."""
    command.upgrade(alembic_config(spec, settings), revision)


def run_env() -> None:
    """Body of every service's `migrations/env.py`."""
    url = context.config.attributes["database_url"]

    def _run(connection: Connection) -> None:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()

    async def _main() -> None:
        engine = create_async_engine(url, poolclass=sa.pool.NullPool)
        try:
            async with engine.connect() as conn:
                await conn.run_sync(_run)
                await conn.commit()
        finally:
            await engine.dispose()

    asyncio.run(_main())


def create_backbone_tables() -> None:
    """Outbox, inbox and idempotency tables: the first migration of every service calls this
    (frozen, as create_rate_limit_table: a change is a new helper for a new revision)."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index(
        "ix_outbox_unsent", "outbox", ["id"], postgresql_where=sa.text("sent_at IS NULL")
    )
    # One NOTIFY per inserting statement wakes the relay at commit (NOTIFY is transactional).
    op.execute(
        f"""
        CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('{OUTBOX_NOTIFY_CHANNEL}', ''); RETURN NULL; END $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox"
        " FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column(
            "applied_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("body", sa.dialects.postgresql.JSONB),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )


def drop_backbone_tables() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("inbox")
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
    op.drop_table("outbox")


def create_rate_limit_table() -> None:
    """The counters of shared/ratelimit.py, for a service that limits requests (frozen: a change
    to the table is a new helper, so the revisions that called this one keep meaning the same).
    UNLOGGED: counters need no crash safety nor a copy on replicas, and skip the WAL that every
    counted request would otherwise write; a crash or failover only starts them again at zero."""
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        # Seconds since the epoch, as the `limits` library counts time.
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_rate_limits"),
        prefixes=["UNLOGGED"],
    )
    op.create_index("ix_rate_limits_expires_at", "rate_limits", ["expires_at"])


def drop_rate_limit_table() -> None:
    op.drop_table("rate_limits")
