"""Overseas recruitment against a demand letter: the agency's name list of selected workers and
the ledger of each worker's recruitment costs, with who paid them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.personal import FREE_TEXT, personal


class NameListEntry(Base):
    """A worker the agency selected against a demand letter; at most the quota are selected."""

    __tablename__ = "name_list_entries"
    __table_args__ = (
        # One selected entry per person and vacancy; withdrawn ones stay as history, and a
        # withdrawn worker may be selected again.
        Index(
            "uq_name_list_entries_selected",
            "vacancy_id",
            "person_id",
            unique=True,
            postgresql_where=text("status = 'selected'"),
        ),
        Index("ix_name_list_entries_vacancy", "vacancy_id", "submitted_at"),
        CheckConstraint("status IN ('selected', 'withdrawn')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    vacancy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vacancies.id"))
    person_id: Mapped[uuid.UUID] = mapped_column()
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referrals.id"))
    status: Mapped[str] = mapped_column(String(10), default="selected", server_default="selected")
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    withdrawn_by: Mapped[str | None] = mapped_column(String(100))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))


class RecruitmentCost(Base):
    """One recruitment cost of one worker and who paid it: a ledger, appended to, never edited."""

    __tablename__ = "recruitment_costs"
    __table_args__ = (
        Index("ix_recruitment_costs_vacancy_person", "vacancy_id", "person_id"),
        Index(
            "ix_recruitment_costs_agency_worker_paid",
            "agency_id",
            postgresql_where=text("paid_by = 'worker'"),
        ),
        CheckConstraint("paid_by IN ('employer', 'agency', 'worker')", name="paid_by"),
        CheckConstraint("amount >= 0", name="amount"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    vacancy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vacancies.id"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    person_id: Mapped[uuid.UUID] = mapped_column()
    item: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    paid_by: Mapped[str] = mapped_column(String(10))
    paid_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
