"""Jobseeker profiles, and the referrals matching told us about."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.personal import FREE_TEXT, personal


class JobseekerProfile(Base):
    __tablename__ = "jobseeker_profiles"
    __table_args__ = (Index("ix_jobseeker_profiles_status", "status"),)

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(10))
    desired_occupations: Mapped[list[str]] = mapped_column(ARRAY(String), server_default="{}")
    preferred_provinces: Mapped[list[str]] = mapped_column(ARRAY(String), server_default="{}")
    willing_to_work_abroad: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    abroad_countries: Mapped[list[str]] = mapped_column(ARRAY(String), server_default="{}")
    availability: Mapped[str | None] = mapped_column(String(12))
    available_from: Mapped[date | None] = mapped_column(Date)
    status_reason: Mapped[str | None] = mapped_column(String(200), info=personal(FREE_TEXT))
    status_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Referral(Base):
    """Registry's copy of a referral's state: a jobseeker is `referred` while one is open."""

    __tablename__ = "referral_states"
    __table_args__ = (Index("ix_referral_states_person_id", "person_id"),)

    referral_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
