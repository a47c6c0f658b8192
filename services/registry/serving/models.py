"""Offices serving a person of another province: one link per (person, office)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.personal import FREE_TEXT, personal


class ServiceLink(Base):
    """An office outside the person's province that serves them, and since when and why.

    The first basis is kept: an office that recorded a visit and later enrolled the person in a
    session stays linked by the visit.
    """

    __tablename__ = "service_links"
    __table_args__ = (Index("ix_service_links_office", "office_code", "person_id"),)

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    office_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    basis: Mapped[str] = mapped_column(String(10))  # visit | enrolment
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))
