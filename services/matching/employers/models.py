"""Employers that bring domestic vacancies to an Employment Service Centre."""

from __future__ import annotations

import uuid

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, Timestamps, Versioned
from shared.personal import CONTACT, IDENTITY, Subject, personal


class Employer(Timestamps, Versioned, Base):
    __tablename__ = "employers"
    __table_args__ = (Index("ix_employers_province_name", "province_code", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    # Enterprise registration number from the Ministry of Industry and Commerce.
    registration_number: Mapped[str] = mapped_column(String(50), unique=True)
    isic_section: Mapped[str] = mapped_column(String(1))
    province_code: Mapped[str] = mapped_column(String(6))
    district: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    contact_name: Mapped[str | None] = mapped_column(
        String(200), info=personal(IDENTITY, Subject.CONTACT_PERSON)
    )
    contact_phone: Mapped[str | None] = mapped_column(
        String(20), info=personal(CONTACT, Subject.CONTACT_PERSON)
    )
    contact_email: Mapped[str | None] = mapped_column(
        String(254), info=personal(CONTACT, Subject.CONTACT_PERSON)
    )
    office_code: Mapped[str | None] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(100))
