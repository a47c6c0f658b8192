"""Registry tables: people and their identity documents."""

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
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, Timestamps
from shared.personal import (
    BIRTH_DATE,
    CONTACT,
    DOCUMENT,
    ETHNICITY,
    HEALTH,
    IDENTIFIER,
    IDENTITY,
    LOCATION,
    personal,
)

_LIST_FILTERS = ("sex", "jobseeker_status", "date_of_birth")


class Person(Timestamps, Base):
    __tablename__ = "people"
    __table_args__ = (
        # Lists are newest first within a scope; these serve them without sorting. The usual
        # filters ride along as key columns so that rows they reject are skipped inside the
        # index, never fetched: at a million people a rare combination (a small age band of
        # referred women) otherwise reads thousands of rows for one page.
        Index(
            "ix_people_province_list",
            *("province_code", "created_at", "id", *_LIST_FILTERS),
            postgresql_where=text("record_status = 'active'"),
        ),
        Index(
            "ix_people_list",
            *("created_at", "id", *_LIST_FILTERS),
            postgresql_where=text("record_status = 'active'"),
        ),
        Index("ix_people_office_created", "office_code", "created_at", "id"),
        # Candidates for the duplicate check at registration.
        Index("ix_people_date_of_birth", "date_of_birth"),
        Index("ix_people_phone", "phone"),
        Index("ix_people_name_tokens", "name_tokens", postgresql_using="gin"),
        Index("ix_people_occupation_codes", "occupation_codes", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(12), unique=True, info=personal(IDENTIFIER))
    given_name_lo: Mapped[str | None] = mapped_column(String(100), info=personal(IDENTITY))
    family_name_lo: Mapped[str | None] = mapped_column(String(100), info=personal(IDENTITY))
    given_name_en: Mapped[str | None] = mapped_column(String(100), info=personal(IDENTITY))
    family_name_en: Mapped[str | None] = mapped_column(String(100), info=personal(IDENTITY))
    sex: Mapped[str] = mapped_column(String(10))
    date_of_birth: Mapped[date | None] = mapped_column(Date, info=personal(BIRTH_DATE))
    # Kept after erasure, with sex and province, so that counts by age band stay right.
    birth_year: Mapped[int] = mapped_column(SmallInteger)
    phone: Mapped[str | None] = mapped_column(String(20), info=personal(CONTACT))
    email: Mapped[str | None] = mapped_column(String(254), info=personal(CONTACT))
    ethnicity: Mapped[str | None] = mapped_column(String(30), info=personal(ETHNICITY))
    # Washington Group short set answers by domain; the flag is derived from them on write.
    disability: Mapped[dict[str, str] | None] = mapped_column(JSONB, info=personal(HEALTH))
    has_disability: Mapped[bool | None] = mapped_column(Boolean, info=personal(HEALTH))
    province_code: Mapped[str] = mapped_column(String(6))
    district: Mapped[str | None] = mapped_column(String(100), info=personal(LOCATION))
    village: Mapped[str | None] = mapped_column(String(100), info=personal(LOCATION))
    isced_level: Mapped[int | None] = mapped_column(SmallInteger)
    skills: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    certificates: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    languages: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    experience: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    # Search keys, written with the record: phonetic keys of every name word in both scripts,
    # and every ISCO-08 group (with its parents) of the person's experience and wishes.
    name_tokens: Mapped[list[str]] = mapped_column(
        ARRAY(String),
        server_default="{}",
        info=personal(IDENTITY, note="phonetic keys of the names, for search"),
    )
    occupation_codes: Mapped[list[str]] = mapped_column(ARRAY(String), server_default="{}")
    # Mirrors of the jobseeker profile's status and of the latest migration record's state:
    # lists filter on them along the (province, created_at) index, without a join.
    jobseeker_status: Mapped[str | None] = mapped_column(String(10))
    migration_status: Mapped[str | None] = mapped_column(String(20))
    office_code: Mapped[str | None] = mapped_column(String(20))
    preferred_language: Mapped[str] = mapped_column(String(2))
    registered_by: Mapped[str] = mapped_column(String(200))
    # What the officer confirmed when registering despite probable duplicates.
    duplicate_override: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    record_status: Mapped[str] = mapped_column(String(10), server_default="active")
    merged_into: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")


class IdentityDocument(Base):
    """National ID card, family book or passport; a number belongs to one person only."""

    __tablename__ = "identity_documents"
    __table_args__ = (
        UniqueConstraint("kind", "country", "number", name="uq_identity_documents_number"),
        Index("ix_identity_documents_person_id", "person_id"),
        # A search by document number does not know the kind or the issuing country.
        Index("ix_identity_documents_by_number", "number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    number: Mapped[str] = mapped_column(String(40), info=personal(DOCUMENT))
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
