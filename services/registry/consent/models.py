"""Consent history: one row per decision, never updated; the latest row per scope counts."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.personal import FREE_TEXT, IDENTITY, Subject, personal


class Consent(Base):
    __tablename__ = "consents"
    __table_args__ = (
        Index("ix_consents_person_scope", "person_id", "purpose", "scope_key", "recorded_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(30))
    # '' for purposes without a scope, else 'agency:<code>' or 'category:<name>'.
    scope_key: Mapped[str] = mapped_column(String(80))
    agency: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))
    witness_name: Mapped[str | None] = mapped_column(
        String(200), info=personal(IDENTITY, Subject.WITNESS)
    )
    expires_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))
    recorded_by: Mapped[str] = mapped_column(String(200))
    office_code: Mapped[str | None] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
