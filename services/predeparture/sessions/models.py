"""Orientation sessions and who is enrolled in them (or waiting for a place)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, Timestamps, Versioned
from shared.personal import FREE_TEXT, IDENTITY, Subject, personal


class OrientationSession(Timestamps, Versioned, Base):
    __tablename__ = "orientation_sessions"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'held', 'closed', 'cancelled')", name="status"),
        CheckConstraint("capacity > 0", name="capacity"),
        CheckConstraint("ends_at > starts_at", name="times"),
        # The next sessions of an office, for enrolment and invitations.
        Index("ix_orientation_sessions_office_starts", "office_code", "starts_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    office_code: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[str] = mapped_column(String(6))
    curriculum_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("curricula.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    facilitator: Mapped[str] = mapped_column(String(200), info=personal(IDENTITY, Subject.STAFF))
    language: Mapped[str] = mapped_column(String(3))
    venue: Mapped[str] = mapped_column(String(300))
    # Village outreach: held in a community rather than at the office.
    outreach: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    district: Mapped[str | None] = mapped_column(String(100))
    village: Mapped[str | None] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    planned_modules: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    status: Mapped[str] = mapped_column(String(10), default="scheduled", server_default="scheduled")
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Held on a day without a connection and entered afterwards from paper: `created_by` and
    # `created_at` say who entered it and when.
    entered_late: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[str] = mapped_column(String(100))


class Enrolment(Base):
    """A person's place in a session, or their turn on its waiting list (oldest first)."""

    __tablename__ = "enrolments"
    __table_args__ = (
        CheckConstraint("status IN ('enrolled', 'waitlisted', 'cancelled')", name="status"),
        # One live enrolment of a person in a session; cancelled ones stay as history.
        Index(
            "uq_enrolments_live",
            "session_id",
            "person_id",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index("ix_enrolments_session_status", "session_id", "status", "created_at"),
        Index("ix_enrolments_person", "person_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orientation_sessions.id"))
    person_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(10))
    # Invited by the service (a prospective migrant, an offer abroad) rather than by staff.
    automatic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    destination_country: Mapped[str | None] = mapped_column(String(2))
    reason: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
