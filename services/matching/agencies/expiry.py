"""Licence expiry on its date: a scheduled job, safe in several processes at once."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.agencies.service import apply_expiry, due_for_expiry
from shared.settings import Settings

BATCH = 200


async def expire_licences(session: AsyncSession, settings: Settings, today: date) -> int:
    """Apply every licence expiry due by `today`; returns how many agencies expired.

    Each agency is claimed with FOR UPDATE SKIP LOCKED and marked (`expiry_applied_on`) in the
    same transaction as its event and its paused vacancies: a second pass finds nothing to do.
    """
    agencies = await due_for_expiry(session, today, limit=BATCH)
    for agency in agencies:
        await apply_expiry(session, agency, today)
    return len(agencies)
