"""Outreach sessions in communities, counted anonymously by sex and age band."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.personal import FREE_TEXT, IDENTITY, Subject, personal


class OutreachSession(Base):
    __tablename__ = "outreach_sessions"
    __table_args__ = (
        # Reports sum outreach over a period; lists page newest recorded first.
        Index("ix_outreach_sessions_held_on", "held_on"),
        Index("ix_outreach_sessions_recorded", "recorded_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    office_code: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[str] = mapped_column(String(6))
    district: Mapped[str] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[date] = mapped_column(Date)
    facilitator: Mapped[str] = mapped_column(String(200), info=personal(IDENTITY, Subject.STAFF))
    language: Mapped[str] = mapped_column(String(3))
    topics: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    note: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))
    # Recorded on a later day than it was held (from paper, after a day without a connection).
    entered_late: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class OutreachCount(Base):
    """How many people of one sex and age band came: never who."""

    __tablename__ = "outreach_counts"
    __table_args__ = (
        CheckConstraint("people >= 0", name="people"),
        CheckConstraint("sex IN ('female', 'male', 'other')", name="sex"),
        CheckConstraint(
            "age_band IN ('under_15', '15-17', '18-24', '25-34', '35-44', '45-54', '55+')",
            name="age_band",
        ),
    )

    outreach_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outreach_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    sex: Mapped[str] = mapped_column(String(6), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(8), primary_key=True)
    people: Mapped[int] = mapped_column(Integer)
