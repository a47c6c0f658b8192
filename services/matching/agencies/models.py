"""Licensed recruitment agencies, the history of their licence status, and complaints."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, Timestamps, Versioned
from shared.personal import CONTACT, FREE_TEXT, IDENTITY, Subject, personal


class Agency(Timestamps, Versioned, Base):
    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended', 'revoked')", name="status"),
        CheckConstraint("licence_expires_on > licence_issued_on", name="licence_dates"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Short code staff and tokens use (`agency` claim), and registry's migration records quote.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    licence_number: Mapped[str] = mapped_column(String(50), unique=True)
    licence_issued_on: Mapped[date] = mapped_column(Date)
    licence_expires_on: Mapped[date] = mapped_column(Date)
    destinations: Mapped[list[str]] = mapped_column(ARRAY(String(2)))
    # The recorded decision; an expired licence is derived from the date, not stored.
    status: Mapped[str] = mapped_column(String(10), default="active", server_default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_on: Mapped[date | None] = mapped_column(Date)
    # Set once the expiry has been announced and the agency's vacancies paused for it.
    expiry_applied_on: Mapped[date | None] = mapped_column(Date)
    province_code: Mapped[str] = mapped_column(String(6))
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
    created_by: Mapped[str] = mapped_column(String(100))


class AgencyStatusChange(Base):
    """Every licence decision, kept: supervisors need the history, not only the last state."""

    __tablename__ = "agency_status_changes"
    __table_args__ = (Index("ix_agency_status_changes_agency", "agency_id", "changed_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    status: Mapped[str] = mapped_column(String(10))
    previous_status: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    effective_on: Mapped[date] = mapped_column(Date)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Complaint(Timestamps, Base):
    """A complaint against an agency (fees charged, contract substitution, withheld passport...)."""

    __tablename__ = "agency_complaints"
    __table_args__ = (
        Index("ix_agency_complaints_agency", "agency_id", "received_on"),
        CheckConstraint(
            "status IN ('open', 'investigating', 'upheld', 'dismissed')", name="status"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    category: Mapped[str] = mapped_column(String(30))
    received_on: Mapped[date] = mapped_column(Date)
    # The complainant when they are a registered person; complaints may also be anonymous.
    person_id: Mapped[uuid.UUID | None] = mapped_column()
    description: Mapped[str] = mapped_column(
        Text, info=personal(FREE_TEXT, note="what the complainant reported")
    )
    status: Mapped[str] = mapped_column(String(15), default="open", server_default="open")
    outcome: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))
    recorded_by: Mapped[str] = mapped_column(String(100))
    office_code: Mapped[str | None] = mapped_column(String(20))
