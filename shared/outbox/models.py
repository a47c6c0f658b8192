"""The outbox table every service database holds."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt


class OutboxRecord(CreatedAt, Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # The relay's only query: unsent rows in id order. Partial, so it stays small.
        Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(200))
    value: Mapped[bytes] = mapped_column(LargeBinary)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), sort_order=1)
