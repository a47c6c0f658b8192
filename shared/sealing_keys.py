"""Person keys as every service keeps them (`person_keys`): registry holds each person's key from
the registration until the erasure; every other service keeps the keys it fetched from registry,
until PersonErased. The same table in each database, read and written only here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy import (
    ARRAY,
    DateTime,
    LargeBinary,
    Table,
    Uuid,
    bindparam,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.consumer.direct import Direct
from shared.db import Base

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    import asyncpg
    from sqlalchemy.ext.asyncio import AsyncSession


class PersonKey(Base):
    """One person's key: the AES-256 key that seals the personal part of their events. Not
    personal data itself, but whoever holds it reads the person's events: deleted on erasure."""

    __tablename__ = "person_keys"

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


_table = cast("Table", PersonKey.__table__)
_SELECT = select(_table.c.person_id, _table.c.key)
# Run on the transaction's own connection (shared.consumer.direct): a consumer batch keeps the
# keys it fetched in one statement, where the session's path cost more than the insert.
_INSERT = Direct(
    text(
        "INSERT INTO person_keys (person_id, key)"
        " SELECT * FROM unnest(:person_ids, :keys) ON CONFLICT DO NOTHING"
    ).bindparams(
        bindparam("person_ids", type_=ARRAY(Uuid)), bindparam("keys", type_=ARRAY(LargeBinary))
    )
)


async def stored_keys(
    session: AsyncSession, person_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, bytes]:
    """The keys held of `person_ids` (one SELECT); a person without one is left out."""
    if not person_ids:
        return {}
    rows = await session.execute(_SELECT.where(_table.c.person_id.in_(list(person_ids))))
    return {person_id: bytes(key) for person_id, key in rows}


# `held_keys`: the same SELECT as `stored_keys`, on a driver connection outside any session.
_HELD = "SELECT person_id, key FROM person_keys WHERE person_id = ANY($1::uuid[])"


async def held_keys(
    connection: asyncpg.Connection, person_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, bytes]]:
    """The keys held of `person_ids`, read on a driver connection (one SELECT, no ORM): for
    registry's person-keys endpoint, a read that needs no transaction of its own."""
    rows = await connection.fetch(_HELD, list(person_ids))
    return [(row[0], row[1]) for row in rows]


async def keep_keys(session: AsyncSession, keys: Mapping[uuid.UUID, bytes]) -> None:
    """Hold these keys (one already held stays as it is), in one statement."""
    if keys:
        await _INSERT.execute(session, {"person_ids": list(keys), "keys": list(keys.values())})


async def forget_keys(session: AsyncSession, person_ids: Collection[uuid.UUID]) -> None:
    """Destroy the keys of `person_ids`: what they sealed can no longer be read here."""
    if person_ids:
        await session.execute(delete(_table).where(_table.c.person_id.in_(list(person_ids))))
