"""Vacancy expiry on its closing date: a scheduled job, safe in several processes at once."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.vacancies.service import expire_due
from shared.settings import Settings

BATCH = 500


async def expire_vacancies(session: AsyncSession, settings: Settings, today: date) -> int:
    """Expire published or paused vacancies whose closing date has passed; returns how many.

    Each vacancy is claimed with FOR UPDATE SKIP LOCKED and moved in the same transaction as
    its event, so two processes never expire one twice and a second pass finds nothing.
    """
    return await expire_due(session, today, limit=BATCH)
