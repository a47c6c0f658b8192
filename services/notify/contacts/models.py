"""The contact read model: how to reach a person, who registered them and why, and which
offices serve them; built only from registry's events."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base
from shared.personal import CONTACT, IDENTIFIER, IDENTITY, personal


class Contact(Base):
    """One person's phone, email, language and the standing of each channel.

    `sms_consent` / `email_consent` hold the latest registry consent status for `contact_sms`
    / `contact_email` (null when none was ever recorded); `sms_opted_out_at` is set when the
    person replied STOP. A merged record points at its survivor and is never messaged.
    `office_code` (the office that registered the person, or holds them now) and `jobseeker`
    (a jobseeker profile is on record) decide which welcome they get and which office messages
    name; `registered_at` bounds how late a welcome may still go (a consent given afterwards).
    """

    __tablename__ = "contacts"

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(40), info=personal(IDENTIFIER))
    given_name_lo: Mapped[str | None] = mapped_column(String(200), info=personal(IDENTITY))
    given_name_en: Mapped[str | None] = mapped_column(String(200), info=personal(IDENTITY))
    phone: Mapped[str | None] = mapped_column(
        String(20), index=True, info=personal(CONTACT, purpose="contact_sms")
    )
    email: Mapped[str | None] = mapped_column(
        String(320), info=personal(CONTACT, purpose="contact_email")
    )
    preferred_language: Mapped[str] = mapped_column(String(2))
    province_code: Mapped[str] = mapped_column(String(6))
    office_code: Mapped[str | None] = mapped_column(String(20))
    jobseeker: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    registered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sms_consent: Mapped[str | None] = mapped_column(String(20))
    sms_consent_expires_on: Mapped[date | None] = mapped_column(Date)
    email_consent: Mapped[str | None] = mapped_column(String(20))
    email_consent_expires_on: Mapped[date | None] = mapped_column(Date)
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    merged_into: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ServingOffice(Base):
    """An office outside the person's province that serves them (registry's PersonServedAt): its
    staff read the person's messages as the person's own province's staff do."""

    __tablename__ = "contact_serving_offices"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.person_id", ondelete="CASCADE"), primary_key=True
    )
    office_code: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
    basis: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
