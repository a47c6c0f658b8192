"""Scheduled work of delivery: handing due messages to their channel's provider."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from services.notify.delivery.dispatcher import drain
from services.notify.delivery.providers import Providers, providers_for
from shared.spec import PeriodicJob

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings
    from shared.work import Work

# People wait on these messages: a pass as soon as one is queued (a trigger on `messages`
# notifies this channel at commit, migration 0007), and every few seconds for those that fall
# due later (quiet hours, retries) or a notification missed.
WAKE_CHANNEL = "labourx_notify_messages"
DISPATCH_INTERVAL_S = 5.0


@asynccontextmanager
async def providers(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Providers]:
    """The providers the settings choose, for as long as the jobs run (the HTTP gateway's client
    keeps its connections from pass to pass); closed when they stop."""
    opened = providers_for(settings, sessions)
    try:
        yield opened
    finally:
        await opened.aclose()


async def dispatch_due(work: Work) -> int:
    """Dispatcher passes until nothing more is due (see `drain`). Each pass needs a transaction
    before the hand-over and one after (a send must never wait inside an open transaction), so
    it opens its own from `work.sessions`; the pass's own transaction stays unused (it holds
    no connection)."""
    sent_by = await work.resource(providers)
    return (await drain(work.sessions, work.settings, sent_by)).handled


JOBS: list[PeriodicJob] = [
    PeriodicJob(
        "message-delivery", dispatch_due, interval_s=DISPATCH_INTERVAL_S, wake_on=WAKE_CHANNEL
    )
]
