"""What OpenID Connect sign-in keeps in the console's database: sign-ins under way, and the
provider's tokens of each signed-in session (officers only; nothing about jobseekers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.personal import ACCOUNT, Subject, personal


class SignInFlow(Base):
    """A sign-in sent to the provider and not back yet: what the callback checks (the state),
    proves (the PKCE verifier) and expects (the ID token's nonce). Bound to the browser that
    started it by a cookie of its own, kept here only as a hash; used once, then deleted."""

    __tablename__ = "console_oidc_flows"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    # Authlib's state data: redirect_uri, code_verifier, nonce.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    next: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_console_oidc_flows_created_at", "created_at"),)


class SessionGrant(Base):
    """The provider's tokens of a session signed in with OpenID Connect (the access token
    itself is the session's `token`, sent to the services). Goes with its session."""

    __tablename__ = "console_oidc_grants"

    session_hash: Mapped[str] = mapped_column(
        String(64), ForeignKey("console_sessions.id_hash", ondelete="CASCADE"), primary_key=True
    )
    # Kept as given: a confidential client's refresh token is worth nothing without the
    # client's secret, which is not in this database.
    refresh_token: Mapped[str | None] = mapped_column(
        Text, info=personal(ACCOUNT, Subject.STAFF, note="the officer's refresh token")
    )
    # Sent back as `id_token_hint` when the officer signs out (RP-initiated logout).
    id_token: Mapped[str | None] = mapped_column(
        Text, info=personal(ACCOUNT, Subject.STAFF, note="the officer's ID token (their claims)")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
