"""Attendance per person per module of a session, and every correction made after closing."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.personal import FREE_TEXT, personal


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (
        CheckConstraint("status IN ('present', 'absent', 'excused')", name="status"),
        Index("ix_attendance_person", "person_id"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orientation_sessions.id"), primary_key=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    module_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AttendanceCorrection(Base):
    """A change to the attendance of a closed session: who, when, why, from what to what.
    Append-only (a trigger refuses changes), like registry's audit trail."""

    __tablename__ = "attendance_corrections"
    __table_args__ = (
        CheckConstraint("status IN ('present', 'absent', 'excused')", name="status"),
        Index("ix_attendance_corrections_session", "session_id", "corrected_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orientation_sessions.id"))
    person_id: Mapped[uuid.UUID] = mapped_column()
    module_code: Mapped[str] = mapped_column(String(20))
    previous_status: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, info=personal(FREE_TEXT))
    corrected_by: Mapped[str] = mapped_column(String(100))
    corrected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
