"""Scheduled work of vacancies: expiry on the closing date, safe in several processes at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.matching.vacancies.lifecycle import expire_due
from shared.spec import PeriodicJob

if TYPE_CHECKING:
    from shared.work import Work

BATCH = 500


async def expire_vacancies(work: Work) -> int:
    """Expire published or paused vacancies whose closing date has passed; returns how many.

    Each vacancy is claimed with FOR UPDATE SKIP LOCKED and moved in the same transaction as
    its event, so two processes never expire one twice and a second pass finds nothing.
    """
    return await expire_due(work.session, work.today, limit=BATCH)


JOBS: list[PeriodicJob] = [PeriodicJob("vacancy-expiry", expire_vacancies)]
