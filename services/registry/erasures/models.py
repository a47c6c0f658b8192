"""The erasure ledger as registry keeps it: the same entries as the `registry.erasures` topic,
for audit and for a restore whose broker was lost too (docs/operations.md, "Back up and
restore"). Ids and dates only: no row says anything about who the person was."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base


class ErasureLedgerEntry(Base):
    __tablename__ = "erasure_ledger"

    # The erased record's id: the person's, or of a record merged into them earlier.
    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # "request" (the person asked) or "retention" (no activity for the retention period).
    basis: Mapped[str] = mapped_column(String(10))
    # For a record merged away earlier: the record whose erasure reached it.
    survivor_id: Mapped[uuid.UUID | None] = mapped_column()
    # The PersonErased event this entry records.
    cause_event_id: Mapped[uuid.UUID] = mapped_column()
