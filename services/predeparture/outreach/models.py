"""Outreach sessions in communities, counted anonymously by sex and age band."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base


class OutreachSession(Base):
    __tablename__ = "outreach_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    office_code: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[str] = mapped_column(String(6))
    district: Mapped[str] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[date] = mapped_column(Date)
    facilitator: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(3))
    topics: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class OutreachCount(Base):
    """How many people of one sex and age band came: never who."""

    __tablename__ = "outreach_counts"
    __table_args__ = (CheckConstraint("people >= 0", name="people"),)

    outreach_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outreach_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    sex: Mapped[str] = mapped_column(String(6), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(8), primary_key=True)
    people: Mapped[int] = mapped_column(Integer)
