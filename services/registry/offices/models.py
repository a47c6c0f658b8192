"""Offices of the network: Employment Service Centres and Migrant Resource Centres."""

from __future__ import annotations

from sqlalchemy import Boolean, String, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt


class Office(CreatedAt, Base):
    __tablename__ = "offices"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Lao first on everything a person reads (slips, certificates, messages); English beside it.
    name_lo: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(3))
    province_code: Mapped[str] = mapped_column(String(6))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
