"""Predeparture's audit trail: who read or changed what about a person, and what was entered
late from paper. Append-only (a trigger refuses changes); no personal data in it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base


class AuditEntry(Base):
    # Named for the service: every service's models share one metadata (registry has audit_log).
    __tablename__ = "predeparture_audit_log"
    __table_args__ = (
        Index("ix_predeparture_audit_log_person_at", "person_id", "at"),
        Index("ix_predeparture_audit_log_actor_at", "actor", "at"),
        Index("ix_predeparture_audit_log_subject_at", "subject_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    actor: Mapped[str] = mapped_column(String(200))
    # The acting office: an office serving a person of another province is named here.
    office_code: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    # No foreign keys: the trail outlives merges and erasures of the records it speaks of.
    person_id: Mapped[uuid.UUID | None] = mapped_column()
    # The session or outreach record the action was about, when there is one.
    subject_id: Mapped[uuid.UUID | None] = mapped_column()
    # Why the acting office may see the person: `national`, `province` (theirs), `serving`
    # (an office registry linked to the person, or whose session holds their place), `session`
    # (the office running the session the person is on). None for entries about no person.
    basis: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
