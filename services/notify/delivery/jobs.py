"""Scheduled work of delivery: handing due messages to their channel's provider."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.notify.delivery.dispatcher import drain
from services.notify.delivery.providers import Providers, providers_for
from shared.db import session_factory
from shared.settings import Settings
from shared.spec import PeriodicJob

# People wait on these messages: a pass as soon as one is queued (a trigger on `messages`
# notifies this channel at commit, migration 0007), and every few seconds for those that fall
# due later (quiet hours, retries) or a notification missed.
WAKE_CHANNEL = "labourx_notify_messages"
DISPATCH_INTERVAL_S = 5.0

# One set of providers per process (the HTTP gateway's client keeps its connections).
_providers: dict[tuple[int, int], tuple[Providers, async_sessionmaker[AsyncSession]]] = {}


def _for(
    settings: Settings, engine: AsyncEngine
) -> tuple[Providers, async_sessionmaker[AsyncSession]]:
    key = (id(settings), id(engine))
    if key not in _providers:
        sessions = session_factory(engine)
        _providers[key] = (providers_for(settings, sessions), sessions)
    return _providers[key]


async def dispatch_due(session: AsyncSession, settings: Settings, today: date) -> int:
    """Dispatcher passes until nothing more is due (see `drain`). Each pass needs a transaction
    before the hand-over and one after (a send must never wait inside an open transaction), so
    it opens its own sessions on the job's engine; the session the job runner gives it stays
    unused (it holds no connection)."""
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise TypeError("the delivery job needs a session bound to an engine")
    providers, sessions = _for(settings, engine)
    return (await drain(sessions, settings, providers)).handled


JOBS: list[PeriodicJob] = [
    PeriodicJob(
        "message-delivery", dispatch_due, interval_s=DISPATCH_INTERVAL_S, wake_on=WAKE_CHANNEL
    )
]
