"""Matching's read model of people, built only from registry and predeparture events.

It holds what ranking needs and nothing more: no ethnicity, disability or religion (they are
never inputs to a match), and no contact details (notify keeps those).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.personal import BIRTH_DATE, IDENTIFIER, IDENTITY, LOCATION, personal


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (
        # Retrieval for a vacancy: eligible people by occupation and location keys (see
        # ranking/keys.py); only rows that can be matched at all are in the index.
        Index(
            "ix_candidates_match_keys",
            "match_keys",
            postgresql_using="gin",
            postgresql_where=text("eligible"),
        ),
        # Everyone, for the officer who asks who a hard filter excluded and why.
        Index("ix_candidates_all_match_keys", "match_keys", postgresql_using="gin"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), info=personal(IDENTIFIER))
    display_name: Mapped[str] = mapped_column(String(210), info=personal(IDENTITY))
    # Sex is kept for disaggregated placement statistics only; ranking never reads it.
    sex: Mapped[str] = mapped_column(String(6))
    date_of_birth: Mapped[date] = mapped_column(Date, info=personal(BIRTH_DATE))
    province_code: Mapped[str] = mapped_column(String(6))
    district: Mapped[str | None] = mapped_column(String(100), info=personal(LOCATION))
    office_code: Mapped[str | None] = mapped_column(String(20))
    isced_level: Mapped[int | None] = mapped_column(SmallInteger)
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(100)), server_default="{}")
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(3)), server_default="{}")
    # [{"isco08": "7112", "years": 3.0}]: years of experience per occupation.
    experience: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    desired_occupations: Mapped[list[str]] = mapped_column(ARRAY(String(4)), server_default="{}")
    preferred_provinces: Mapped[list[str]] = mapped_column(ARRAY(String(6)), server_default="{}")
    willing_abroad: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    abroad_countries: Mapped[list[str]] = mapped_column(ARRAY(String(2)), server_default="{}")
    match_keys: Mapped[list[str]] = mapped_column(ARRAY(String(16)), server_default="{}")
    jobseeker_status: Mapped[str | None] = mapped_column(String(10))
    # The latest migration record: its status and destination (an overseas placement needs one
    # still open, prospective or ready, for the job's country).
    migration_status: Mapped[str | None] = mapped_column(String(12))
    migration_destination: Mapped[str | None] = mapped_column(String(2))
    consent_job_matching: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    consent_expires_on: Mapped[date | None] = mapped_column(Date)
    consent_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    passport_expires_on: Mapped[date | None] = mapped_column(Date)
    # Destinations of the orientations in candidate_orientations, copied for retrieval keys.
    oriented_countries: Mapped[list[str]] = mapped_column(ARRAY(String(2)), server_default="{}")
    # Whether the person can be matched at all apart from dates (age, consent expiry, passport):
    # consent in force, an open record, a jobseeker status that is looking, not abroad.
    eligible: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    record_status: Mapped[str] = mapped_column(String(10), server_default="active")
    merged_into: Mapped[uuid.UUID | None] = mapped_column()
    # Offices outside the person's province that serve them (registry's PersonServedAt): their
    # staff rank, refer and place the person as the person's own province's staff do.
    serving_offices: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default="{}")
    record_version: Mapped[int] = mapped_column(Integer, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CandidateOrientation(Base):
    """A completed pre-departure orientation, per destination, from predeparture's events."""

    __tablename__ = "candidate_orientations"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("candidates.person_id", ondelete="CASCADE"), primary_key=True
    )
    destination_country: Mapped[str] = mapped_column(String(2), primary_key=True)
    certificate_number: Mapped[str] = mapped_column(String(40), info=personal(IDENTIFIER))
    completed_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
