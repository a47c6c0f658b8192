"""Bulk imports of registrations collected offline, and which rows they already created."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt


class ImportBatch(CreatedAt, Base):
    __tablename__ = "import_batches"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(String(200))
    office_code: Mapped[str | None] = mapped_column(String(20))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    # Per-row outcome counts; the rows themselves carry no personal data.
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB)


class ImportedRow(Base):
    """A row already turned into a person: the same row uploaded again creates nothing."""

    __tablename__ = "imported_rows"

    # sha256 of the row's normalised content, so a re-sorted or re-saved file still matches.
    row_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("import_batches.id"))
    row_number: Mapped[int] = mapped_column(Integer)
