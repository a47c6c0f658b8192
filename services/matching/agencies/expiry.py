"""Licence expiry on its date (being built)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from shared.settings import Settings


async def expire_licences(session: AsyncSession, settings: Settings, today: date) -> int:
    """Apply every licence expiry due by `today`; returns how many agencies expired."""
    return 0
