"""Scheduled work of console sessions: ended ones are purged after a week."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.console.sessions.service import purge
from shared.spec import PeriodicJob

if TYPE_CHECKING:
    from shared.work import Work


async def purge_sessions(work: Work) -> int:
    """Delete the sessions ended (or run out) more than a week ago; returns how many."""
    return await purge(work.session, work.settings, work.today)


JOBS: list[PeriodicJob] = [PeriodicJob("purge-sessions", purge_sessions, interval_s=3600.0)]
