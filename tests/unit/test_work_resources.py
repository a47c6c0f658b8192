"""A runner's resources (`shared.work.Resources`): opened once, on the first ask, however many
passes ask at once; closed, last opened first, when the runner stops; opened afresh after."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, cast

from shared.settings import Settings
from shared.work import Resources

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SETTINGS = Settings(env="test")
SESSIONS = cast("async_sessionmaker[AsyncSession]", None)


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def opener(self, name: str) -> Any:
        @asynccontextmanager
        async def open_it(
            settings: Settings, sessions: async_sessionmaker[AsyncSession]
        ) -> AsyncIterator[list[str]]:
            assert settings is SETTINGS
            self.lines.append(f"open {name}")
            await asyncio.sleep(0)  # another pass asking meanwhile must wait, not open twice
            try:
                yield [name]
            finally:
                self.lines.append(f"close {name}")

        return open_it


async def test_a_resource_is_opened_once_and_shared_by_whoever_asks() -> None:
    log, resources = _Log(), Resources()
    providers = log.opener("providers")
    got = await asyncio.gather(*(resources.get(providers, SETTINGS, SESSIONS) for _ in range(5)))
    assert all(one is got[0] for one in got)
    assert log.lines == ["open providers"]
    await resources.aclose()


async def test_closing_closes_each_resource_last_opened_first_and_the_next_ask_opens_anew() -> None:
    log, resources = _Log(), Resources()
    first, second = log.opener("providers"), log.opener("topics")
    before = await resources.get(first, SETTINGS, SESSIONS)
    await resources.get(second, SETTINGS, SESSIONS)
    await resources.aclose()
    assert log.lines == ["open providers", "open topics", "close topics", "close providers"]

    after = await resources.get(first, SETTINGS, SESSIONS)
    assert after is not before
    await resources.aclose()
    assert log.lines[-2:] == ["open providers", "close providers"]
