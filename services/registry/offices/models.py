"""Offices of the network: Employment Service Centres and Migrant Resource Centres."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base


class Office(Base):
    __tablename__ = "offices"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Lao first on everything a person reads (slips, certificates, messages); English beside it.
    name_lo: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(3))
    province_code: Mapped[str] = mapped_column(String(6))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
