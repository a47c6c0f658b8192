"""Dates as Lao PDR sees them: "today" is the date in Vientiane, not in UTC.

Laos keeps Indochina Time, UTC+7, all year round (no daylight saving), so a fixed offset is
exact and needs no time-zone database in the container.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

LAO_TIME = timezone(timedelta(hours=7), "ICT")


def today() -> date:
    """The current date in Lao PDR: a departure recorded at 06:30 in Vientiane is dated today."""
    return datetime.now(LAO_TIME).date()
