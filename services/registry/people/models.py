"""Registry tables: people."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (Index("ix_people_province_code", "province_code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    given_name_lo: Mapped[str | None] = mapped_column(String(100))
    family_name_lo: Mapped[str | None] = mapped_column(String(100))
    given_name_en: Mapped[str | None] = mapped_column(String(100))
    family_name_en: Mapped[str | None] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(10))
    date_of_birth: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    province_code: Mapped[str] = mapped_column(String(6))
    office_code: Mapped[str | None] = mapped_column(String(20))
    preferred_language: Mapped[str] = mapped_column(String(2))
    registered_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
