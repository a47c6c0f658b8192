"""What a consumer's handler and a job's pass are given, as a route is given its dependencies.

A route declares `SessionDep`, `SettingsDep`; a handler or a pass receives one `Work`: its
transaction (`session`), the process's settings, the session factory (for work that must commit
in steps of its own, e.g. around a send that may not wait inside a transaction), today's date in
Lao PDR, and the runner's `resources`. Nothing is read from `get_settings()` or recovered from
`session.bind`.

`Resources` are what live as long as the runner that built the `Work` (a consumer group, or
the jobs of a process): delivery providers with their connection pools, the partner topics
already created. Each is opened the first time a handler or pass asks for it, and closed when
the runner stops; none is a module global.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.settings import Settings

if TYPE_CHECKING:
    from datetime import date

T = TypeVar("T")

# How a resource is opened, from what lives as long as it: the settings and the session factory
# (never a handler's session, which ends with its transaction). Its exit closes the resource.
Opener = Callable[[Settings, async_sessionmaker[AsyncSession]], AbstractAsyncContextManager[T]]


class Resources:
    """The resources of one runner, by the opener that made them; `aclose` when it stops."""

    def __init__(self) -> None:
        self._opened: dict[Opener[Any], Any] = {}
        self._stack = contextlib.AsyncExitStack()
        self._lock = asyncio.Lock()

    async def get(
        self, opener: Opener[T], settings: Settings, sessions: async_sessionmaker[AsyncSession]
    ) -> T:
        """The resource `opener` makes: opened on the first call, the same one after."""
        async with self._lock:
            if opener not in self._opened:
                self._opened[opener] = await self._stack.enter_async_context(
                    opener(settings, sessions)
                )
            return cast("T", self._opened[opener])

    async def aclose(self) -> None:
        """Close every resource opened, the last opened first; the next `get` opens anew."""
        async with self._lock:
            self._opened.clear()
            await self._stack.aclose()


@dataclass(frozen=True)
class Work:
    """One handler's event or one job's pass: its transaction and what it may use."""

    session: AsyncSession
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    today: date
    resources: Resources

    async def resource(self, opener: Opener[T]) -> T:
        """The runner's resource that `opener` makes (see `Resources`)."""
        return await self.resources.get(opener, self.settings, self.sessions)
