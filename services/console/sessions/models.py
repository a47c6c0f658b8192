"""The console's one table: signed-in sessions (officers only; nothing about jobseekers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, Boolean, DateTime, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.personal import ACCOUNT, Subject, personal


class ConsoleSession(Base):
    """A signed-in officer. The browser's cookie holds a random id; only its SHA-256 is kept,
    so a copy of this table signs no one in."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(
        String(200), info=personal(ACCOUNT, Subject.STAFF, note="the officer's account id")
    )
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    office_code: Mapped[str | None] = mapped_column(String(20))
    province_code: Mapped[str | None] = mapped_column(String(6))
    national: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # How the officer signed in: "dev" (the development picker) or "oidc".
    method: Mapped[str] = mapped_column(String(10))
    # The officer's own bearer token, sent on every call the console makes for them.
    token: Mapped[str] = mapped_column(
        Text, info=personal(ACCOUNT, Subject.STAFF, note="the officer's bearer token")
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # signed_out, idle, expired, revoked, token_rejected
    end_reason: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        # An administrator ends every session of one officer at once.
        Index(
            "ix_console_sessions_open_subject",
            "subject",
            postgresql_where=text("ended_at IS NULL"),
        ),
        # The nightly purge of sessions long ended.
        Index("ix_console_sessions_last_seen_at", "last_seen_at"),
    )
