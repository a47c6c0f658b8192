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


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (or earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
