"""Referrals of people to vacancies, their history, and placements."""

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
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, Timestamps, Versioned
from shared.personal import FREE_TEXT, personal

OPEN = "status IN ('referred', 'interviewed', 'offered')"


class Referral(Timestamps, Versioned, Base):
    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(
            "status IN ('referred', 'interviewed', 'offered', 'placed', 'rejected', 'withdrawn',"
            " 'no_show')",
            name="status",
        ),
        # One open referral of a person to a vacancy at a time.
        Index(
            "uq_referrals_open_vacancy_person",
            "vacancy_id",
            "person_id",
            unique=True,
            postgresql_where=text(OPEN),
        ),
        Index("ix_referrals_person", "person_id", "created_at"),
        Index("ix_referrals_vacancy", "vacancy_id", "created_at"),
        Index("ix_referrals_province", "province_code", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    vacancy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vacancies.id"))
    person_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(12), default="referred", server_default="referred")
    # The vacancy's province and the person's, so officers of either see the referral.
    province_code: Mapped[str] = mapped_column(String(6))
    person_province_code: Mapped[str] = mapped_column(String(6))
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id"))
    overseas: Mapped[bool] = mapped_column(Boolean)
    # The match as the officer saw it when referring: score and why.
    score: Mapped[float | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))
    office_code: Mapped[str | None] = mapped_column(String(20))
    referred_by: Mapped[str] = mapped_column(String(100))


class ReferralStatusChange(Base):
    __tablename__ = "referral_status_changes"
    __table_args__ = (Index("ix_referral_status_changes_referral", "referral_id", "changed_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"))
    status: Mapped[str] = mapped_column(String(12))
    previous_status: Mapped[str | None] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Placement(Base):
    __tablename__ = "placements"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'ended')", name="status"),
        # One active placement per person: the database decides between two officers placing the
        # same person at the same moment.
        Index(
            "uq_placements_active_person",
            "person_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_placements_vacancy", "vacancy_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"), unique=True)
    vacancy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vacancies.id"))
    person_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(6), default="active", server_default="active")
    overseas: Mapped[bool] = mapped_column(Boolean)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))
    placed_by: Mapped[str] = mapped_column(String(100))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
