"""Migration records: one per stay abroad, with its travel and work documents."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, Timestamps
from shared.personal import DOCUMENT, MIGRATION, personal


class MigrationRecord(Timestamps, Base):
    __tablename__ = "migration_records"
    __table_args__ = (
        # One open record per person: a new departure after a return is a new record.
        Index(
            "uq_migration_records_open_per_person",
            "person_id",
            unique=True,
            postgresql_where=text("status NOT IN ('returned', 'cancelled')"),
        ),
        Index(
            "ix_migration_records_return_due_on",
            "return_due_on",
            postgresql_where=text("status IN ('departed', 'abroad')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    destination_country: Mapped[str] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(20))
    agency_code: Mapped[str | None] = mapped_column(String(40))
    employer_name: Mapped[str | None] = mapped_column(
        String(200), info=personal(MIGRATION, note="the employer abroad")
    )
    departed_on: Mapped[date | None] = mapped_column(Date)
    returned_on: Mapped[date | None] = mapped_column(Date)
    return_reason: Mapped[str | None] = mapped_column(String(40))
    skills_gained: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    passport_number: Mapped[str | None] = mapped_column(String(20), info=personal(DOCUMENT))
    passport_expires_on: Mapped[date | None] = mapped_column(Date)
    visa_number: Mapped[str | None] = mapped_column(String(40), info=personal(DOCUMENT))
    visa_expires_on: Mapped[date | None] = mapped_column(Date)
    permit_number: Mapped[str | None] = mapped_column(String(40), info=personal(DOCUMENT))
    permit_issued_on: Mapped[date | None] = mapped_column(Date)
    permit_extended: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Stored (not only derived) so the reminder job can find the records due with an index.
    return_due_on: Mapped[date | None] = mapped_column(Date)
    # The due date a reminder was sent for: a later extension moves the date and re-arms it.
    reminded_for: Mapped[date | None] = mapped_column(Date)
    office_code: Mapped[str | None] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(200))
