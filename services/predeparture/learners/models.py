"""Predeparture's read model of people, built only from registry's events.

It keeps what orientation needs: who to enrol and where (province, and the offices that serve
the person), names in both scripts for the certificate and the roster the person signs, initials
for a certificate's public check, sex and birth date for disaggregated reports; never contact
details, ethnicity or documents. An erasure deletes the row.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt
from shared.personal import BIRTH_DATE, IDENTIFIER, IDENTITY, personal


class Learner(CreatedAt, Base):
    __tablename__ = "learners"
    __table_args__ = (
        # People an office serves, for its staff's lists.
        Index("ix_learners_serving_offices", "serving_offices", postgresql_using="gin"),
        # Prospective migrants waiting for orientation, for staff planning sessions.
        Index(
            "ix_learners_prospective",
            "created_at",
            "person_id",
            postgresql_where=text("migration_status = 'prospective' AND record_status = 'active'"),
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), info=personal(IDENTIFIER))
    initials: Mapped[str] = mapped_column(String(10), info=personal(IDENTITY))
    # Printed on the person's own certificate and on the roster they sign; never in a public
    # answer (the verification check shows initials only).
    given_name_lo: Mapped[str | None] = mapped_column(String(100), info=personal(IDENTITY))
    family_name_lo: Mapped[str | None] = mapped_column(String(100), info=personal(IDENTITY))
    given_name_en: Mapped[str | None] = mapped_column(String(100), info=personal(IDENTITY))
    family_name_en: Mapped[str | None] = mapped_column(String(100), info=personal(IDENTITY))
    sex: Mapped[str] = mapped_column(String(6))
    date_of_birth: Mapped[date] = mapped_column(Date, info=personal(BIRTH_DATE))
    province_code: Mapped[str] = mapped_column(String(6))
    office_code: Mapped[str | None] = mapped_column(String(20))
    # Offices outside the person's province that serve them (registry's PersonServedAt): their
    # staff read and act on the person as the person's own province's staff do.
    serving_offices: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default="{}")
    # The open migration record, as registry last announced it.
    migration_status: Mapped[str | None] = mapped_column(String(12))
    destination_country: Mapped[str | None] = mapped_column(String(2))
    record_status: Mapped[str] = mapped_column(String(10), server_default="active")
    merged_into: Mapped[uuid.UUID | None] = mapped_column()
    record_version: Mapped[int] = mapped_column(Integer, server_default="0")
    # When predeparture first heard of the person: the stable order of lists and their cursors.
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), sort_order=1)
