"""Completions of orientation, each with its certificate."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.personal import FREE_TEXT, IDENTIFIER, personal

# Numbers certificates PDO-<year>-<n> (created by migration 0005): sequential, so that two
# certificates can never share a number; a number alone opens nothing to the public.
CERTIFICATE_SEQUENCE = "completion_certificate_numbers"


class Completion(Base):
    __tablename__ = "completions"
    __table_args__ = (
        CheckConstraint("status IN ('valid', 'withdrawn')", name="status"),
        # One valid completion per person and destination; withdrawn ones stay as history.
        Index(
            "uq_completions_valid",
            "person_id",
            "destination_country",
            unique=True,
            postgresql_where=text("status = 'valid'"),
        ),
        # A person's certificates of every status, for their orientation record.
        Index("ix_completions_person", "person_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column()
    destination_country: Mapped[str] = mapped_column(String(2))
    curriculum_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("curricula.id"))
    completed_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    certificate_number: Mapped[str] = mapped_column(
        String(40), unique=True, info=personal(IDENTIFIER)
    )
    # The code printed on the certificate is not stored, only its SHA-256: a copy of the table
    # cannot be used to vouch for certificates.
    verification_hash: Mapped[str] = mapped_column(String(64), unique=True)
    office_code: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="valid", server_default="valid")
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, info=personal(FREE_TEXT))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
