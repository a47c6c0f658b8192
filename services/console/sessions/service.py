"""Sign-in sessions in the console's database: started, found (ended once run out), ended.

Each function works in the transaction it is given; callers keep those short (never open
while a service is called), so a slow service never holds a database connection.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, or_, select, update

from services.console.sessions import domain
from services.console.sessions.domain import Officer
from services.console.sessions.models import ConsoleSession

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.settings import Settings

# Ended sessions are kept this long (who was signed in when, for an incident), then purged.
KEEP_ENDED = timedelta(days=7)


async def start(
    db: AsyncSession, officer: Officer, *, method: str, language: str, now: datetime
) -> str:
    """A new session for `officer`; the value for the browser's cookie (never stored)."""
    cookie_value = domain.new_secret()
    db.add(
        ConsoleSession(
            id_hash=domain.digest(cookie_value),
            subject=officer.subject,
            roles=sorted(officer.roles),
            office_code=officer.office_code,
            province_code=officer.province_code,
            national=officer.national,
            method=method,
            token=officer.token,
            csrf_token=domain.new_secret(),
            language=language,
            created_at=now,
            last_seen_at=now,
        )
    )
    await db.flush()
    return cookie_value


async def find(
    db: AsyncSession, cookie_value: str, *, now: datetime, settings: Settings
) -> ConsoleSession | None:
    """The open session a cookie names, or None; one found run out is ended on the spot."""
    record = await db.scalar(
        select(ConsoleSession).where(
            ConsoleSession.id_hash == domain.digest(cookie_value),
            ConsoleSession.ended_at.is_(None),
        )
    )
    if record is None:
        return None
    idle = settings.console_session_idle_timeout_s
    found = domain.state(
        record.created_at,
        record.last_seen_at,
        now,
        idle_timeout_s=idle,
        absolute_timeout_s=settings.console_session_absolute_timeout_s,
    )
    if found != "open":
        record.ended_at, record.end_reason = now, found
        await db.flush()
        return None
    if domain.needs_touch(record.last_seen_at, now, idle_timeout_s=idle):
        record.last_seen_at = now
        await db.flush()
    return record


def officer(record: ConsoleSession) -> Officer:
    return Officer(
        subject=record.subject,
        roles=frozenset(record.roles),
        office_code=record.office_code,
        province_code=record.province_code,
        national=record.national,
        token=record.token,
    )


async def end(db: AsyncSession, id_hash: str, reason: str, *, now: datetime) -> None:
    """End one session (signed out, or its token refused by a service)."""
    await db.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id_hash == id_hash, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )


async def revoke_officer(
    db: AsyncSession, subject: str, *, now: datetime, reason: str = "revoked"
) -> int:
    """End every open session of one officer (an administrator's decision: a lost laptop, an
    officer who left); their next request goes to the sign-in page. How many were ended."""
    done = await db.execute(
        update(ConsoleSession)
        .where(ConsoleSession.subject == subject, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


async def set_language(db: AsyncSession, id_hash: str, language: str) -> None:
    await db.execute(
        update(ConsoleSession).where(ConsoleSession.id_hash == id_hash).values(language=language)
    )


async def purge(db: AsyncSession, settings: Settings, today: date) -> int:
    """Delete sessions ended (or run out) more than a week ago: the console's periodic job."""
    now = await db.scalar(select(func.now()))
    assert now is not None
    old = now - KEEP_ENDED
    ran_out = now - timedelta(seconds=settings.console_session_absolute_timeout_s) - KEEP_ENDED
    done = await db.execute(
        delete(ConsoleSession).where(
            or_(ConsoleSession.ended_at < old, ConsoleSession.last_seen_at < ran_out)
        )
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


async def end_reason(db: AsyncSession, cookie_value: str) -> str | None:
    """Why the session a cookie names was ended (idle, expired, revoked, ...), if it was."""
    return await db.scalar(
        select(ConsoleSession.end_reason).where(
            ConsoleSession.id_hash == domain.digest(cookie_value)
        )
    )
