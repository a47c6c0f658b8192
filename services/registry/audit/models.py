"""The audit trail of people's records: append-only, no personal data in it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_person_at", "person_id", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    actor: Mapped[str] = mapped_column(String(200))
    office_code: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    # No foreign key: the trail outlives merges and erasures of the record it speaks of.
    person_id: Mapped[uuid.UUID | None] = mapped_column()
    # Names of the fields read or changed, never their values.
    fields: Mapped[list[str]] = mapped_column(ARRAY(String), server_default="{}")
    reason: Mapped[str | None] = mapped_column(Text)
    # Why the acting office may see the person: `province` (theirs), `national`, `visit` or
    # `enrolment` (an office serving a person of another province), `card` (only the identity
    # card was shown: an exact lookup or a duplicate warning). None for system actions.
    basis: Mapped[str | None] = mapped_column(String(20))
    request_id: Mapped[str | None] = mapped_column(String(64))
