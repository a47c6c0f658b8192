"""The keyset pagination helper (shared/pagination.py) on a real PostgreSQL table of its own.

Rows share instants on purpose (a transaction's rows all carry its `now()`): a page boundary
falling among them must neither skip nor repeat a row, in either direction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import DateTime, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared import pagination
from shared.db import create_engine, drop_database, ensure_database, session_factory
from shared.pagination import oldest_first, page_of, split_page
from shared.problems import InvalidField
from shared.settings import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

SERVICE = "pagination"  # the database's name after the prefix
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


class _Base(DeclarativeBase):
    """Apart from the services' metadata, which migrations and their checks compare."""


class Item(_Base):
    __tablename__ = "items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@pytest.fixture(scope="module")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    settings = Settings(
        env="test", database_url=database_url, database_prefix=f"lxt_{uuid.uuid4().hex[:8]}_"
    )
    await ensure_database(settings, SERVICE)
    engine: AsyncEngine = create_engine(settings, SERVICE)
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
    made = session_factory(engine)
    async with made() as session, session.begin():
        # Three instants, the first and last shared by several rows.
        at = [START] * 3 + [START + timedelta(seconds=1)] + [START + timedelta(seconds=2)] * 3
        session.add_all(Item(id=uuid.uuid4(), created_at=a) for a in at)
    yield made
    await engine.dispose()
    await drop_database(settings, SERVICE)


async def _walk(
    sessions: async_sessionmaker[AsyncSession], limit: int, *, newest_first: bool
) -> list[tuple[datetime, uuid.UUID]]:
    """Every row, page by page, following each page's cursor until there is none."""
    seen: list[tuple[datetime, uuid.UUID]] = []
    cursor: str | None = None
    async with sessions() as session:
        while True:
            order = pagination.newest_first if newest_first else pagination.oldest_first
            query = order(select(Item), (Item.created_at, Item.id), after=cursor, limit=limit)
            rows = (await session.scalars(query)).all()
            page, cursor = page_of(rows, limit, lambda i: (i.created_at, i.id))
            assert len(page) <= limit
            seen += [(i.created_at, i.id) for i in page]
            if cursor is None:
                return seen
            assert len(page) == limit, "a page that is not the last is full"


@pytest.mark.parametrize("newest_first", [True, False])
async def test_walking_the_pages_meets_every_row_once_in_order_whatever_their_size(
    sessions: async_sessionmaker[AsyncSession], newest_first: bool
) -> None:
    async with sessions() as session:
        everything = [(i.created_at, i.id) for i in (await session.scalars(select(Item))).all()]
    expected = sorted(everything, reverse=newest_first)
    for limit in (1, 2, 3, 7, 8):
        assert await _walk(sessions, limit, newest_first=newest_first) == expected, limit


async def test_a_cursor_we_did_not_make_is_a_422_naming_the_parameter() -> None:
    with pytest.raises(InvalidField) as raised:
        oldest_first(select(Item), (Item.created_at, Item.id), after="bm90LWEtY3Vyc29y", limit=5)
    assert raised.value.status == 422
    assert raised.value.extensions["errors"] == [
        {"field": "cursor", "message": "is not a cursor this API returned", "code": "invalid"}
    ]
    with pytest.raises(InvalidField, match=r"^after: "):
        oldest_first(select(Item), (Item.created_at, Item.id), after="@", limit=5, field="after")


def test_a_full_last_page_has_no_next_one() -> None:
    assert split_page([1, 2, 3], 3) == ([1, 2, 3], None)
    assert split_page([1, 2, 3, 4], 3) == ([1, 2, 3], 3)
    assert split_page([], 3) == ([], None)
