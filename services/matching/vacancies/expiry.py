"""Vacancy expiry on its closing date (being built)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from shared.settings import Settings


async def expire_vacancies(session: AsyncSession, settings: Settings, today: date) -> int:
    """Expire published vacancies whose closing date has passed; returns how many."""
    return 0
