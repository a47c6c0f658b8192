"""Scheduled work of agencies: licence expiry on its date, safe in several processes at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.matching.agencies.licences import apply_expiry, due_for_expiry
from shared.spec import PeriodicJob

if TYPE_CHECKING:
    from shared.work import Work

BATCH = 200


async def expire_licences(work: Work) -> int:
    """Apply every licence expiry due by `work.today`; returns how many agencies expired.

    Each agency is claimed with FOR UPDATE SKIP LOCKED and marked (`expiry_applied_on`) in the
    same transaction as its event and its paused vacancies: a second pass finds nothing to do.
    """
    agencies = await due_for_expiry(work.session, work.today, limit=BATCH)
    for agency in agencies:
        await apply_expiry(work.session, agency, work.today)
    return len(agencies)


JOBS: list[PeriodicJob] = [PeriodicJob("licence-expiry", expire_licences)]
