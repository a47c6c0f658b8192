"""Who is signed in, and when a session has run out: pure rules, no database."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

# The roles a person can hold in the console (the services' roles of office staff).
STAFF_ROLES = ("esc_staff", "mrc_staff", "admin", "analyst")

SessionState = Literal["open", "idle", "expired"]


@dataclass(frozen=True)
class Officer:
    """The signed-in officer, as their token says; the token goes on every call made for them."""

    subject: str
    roles: frozenset[str]
    office_code: str | None
    province_code: str | None
    national: bool = False
    token: str = field(default="", repr=False)

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


def new_secret() -> str:
    """A session id or CSRF token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(cookie_value: str) -> str:
    """What the database keeps of a session id."""
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def state(
    created_at: datetime,
    last_seen_at: datetime,
    now: datetime,
    *,
    idle_timeout_s: float,
    absolute_timeout_s: float,
) -> SessionState:
    """Open, or ended by the absolute timeout (counted from sign-in) or by the idle one."""
    if now - created_at >= timedelta(seconds=absolute_timeout_s):
        return "expired"
    if now - last_seen_at >= timedelta(seconds=idle_timeout_s):
        return "idle"
    return "open"


def needs_touch(last_seen_at: datetime, now: datetime, *, idle_timeout_s: float) -> bool:
    """Whether to write the new last-seen time: not on every request (a write per page), but
    often enough that the idle timeout is off by at most a twentieth of itself (or a minute)."""
    return now - last_seen_at >= timedelta(seconds=min(60.0, idle_timeout_s / 20))
