"""Versioned curricula of pre-departure orientation and their modules."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt


class Curriculum(CreatedAt, Base):
    """One version of a curriculum; a completion names the version it was earned under."""

    __tablename__ = "curricula"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_curricula_code_version"),
        CheckConstraint("status IN ('draft', 'active', 'retired')", name="status"),
        CheckConstraint("completion_window_months > 0", name="completion_window_months"),
        CheckConstraint("validity_months > 0", name="validity_months"),
        # One active version per curriculum code: two activations at once cannot both win.
        Index(
            "uq_curricula_active",
            "code",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer)
    title_lo: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    # The completion rule: every mandatory module for the destination attended within this many
    # months (first module to last), and how long the completion then counts for a departure.
    completion_window_months: Mapped[int] = mapped_column(SmallInteger)
    validity_months: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(10), default="draft", server_default="draft")
    created_by: Mapped[str] = mapped_column(String(100))


class CurriculumModule(Base):
    __tablename__ = "curriculum_modules"
    __table_args__ = (
        UniqueConstraint("curriculum_id", "code", name="uq_curriculum_modules_code"),
        CheckConstraint("hours > 0", name="hours"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    curriculum_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("curricula.id"))
    code: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(SmallInteger)
    title_lo: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_en: Mapped[str | None] = mapped_column(Text)
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    mandatory: Mapped[bool] = mapped_column(Boolean)
    # ISO 3166-1 alpha-2 destinations the module is for; empty: every destination.
    destinations: Mapped[list[str]] = mapped_column(ARRAY(String(2)), server_default="{}")
