"""Vacancies: domestic jobs and overseas demand letters."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, Timestamps


class Vacancy(Timestamps, Base):
    __tablename__ = "vacancies"
    __table_args__ = (
        CheckConstraint("kind IN ('domestic', 'overseas')", name="kind"),
        CheckConstraint(
            "status IN ('draft', 'published', 'paused', 'filled', 'closed', 'expired')",
            name="status",
        ),
        CheckConstraint("open_positions BETWEEN 0 AND positions", name="open_positions"),
        # The Employer Pays Principle, enforced by the database as well as the API.
        CheckConstraint("worker_fee_total = 0", name="employer_pays"),
        CheckConstraint(
            "kind = 'domestic' AND employer_id IS NOT NULL"
            " OR kind = 'overseas' AND agency_id IS NOT NULL AND destination_country IS NOT NULL",
            name="kind_fields",
        ),
        # Jobs for a person: published vacancies by occupation group and place (ranking/keys.py).
        Index(
            "ix_vacancies_open_match_keys",
            "match_keys",
            postgresql_using="gin",
            postgresql_where=text("status = 'published'"),
        ),
        Index("ix_vacancies_province_created", "province_code", "created_at", "id"),
        Index("ix_vacancies_agency", "agency_id", "status"),
        Index("ix_vacancies_employer", "employer_id"),
        Index("ix_vacancies_closes_on", "closes_on", postgresql_where=text("status = 'published'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="draft", server_default="draft")
    status_reason: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    isco08: Mapped[str] = mapped_column(String(4))
    match_keys: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    # Domestic: who employs and where. Overseas: the province recruited in (scope of officers).
    employer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("employers.id"))
    province_code: Mapped[str] = mapped_column(String(6))
    district: Mapped[str | None] = mapped_column(String(100))
    # Overseas: a demand letter recruited through a licensed agency.
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id"))
    destination_country: Mapped[str | None] = mapped_column(String(2))
    foreign_employer: Mapped[str | None] = mapped_column(String(200))
    demand_letter_ref: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(15))
    # Requirements.
    required_skills: Mapped[list[str]] = mapped_column(ARRAY(String(100)), server_default="{}")
    min_isced: Mapped[int | None] = mapped_column(SmallInteger)
    min_experience_years: Mapped[Decimal] = mapped_column(Numeric(4, 1), server_default="0")
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(3)), server_default="{}")
    min_age: Mapped[int] = mapped_column(SmallInteger)
    max_age: Mapped[int | None] = mapped_column(SmallInteger)
    # Terms.
    positions: Mapped[int] = mapped_column(Integer)
    open_positions: Mapped[int] = mapped_column(Integer)
    wage_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    wage_currency: Mapped[str] = mapped_column(String(3))
    wage_period: Mapped[str] = mapped_column(String(5))
    contract_months: Mapped[int | None] = mapped_column(SmallInteger)
    starts_on: Mapped[date | None] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    # The statement of fees charged to the worker, item by item, as the employer declared it.
    worker_fees: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    worker_fee_total: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default="0")
    office_code: Mapped[str | None] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(100))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), sort_order=1)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1", sort_order=1)
