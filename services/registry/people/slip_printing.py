"""Printing a person's registration slip: audited like a read, an SMS promised only to someone
who agreed to receive one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.consent.domain import VALID, ConsentStatus, effective_status
from services.registry.consent.models import Consent
from services.registry.offices.service import office_info
from services.registry.people import slip
from services.registry.people.records import get_person
from shared import clock
from shared.reference.offices import office_name

if TYPE_CHECKING:
    import uuid
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal


async def _sms_consented(session: AsyncSession, person_id: uuid.UUID, today: date) -> bool:
    """Whether the person's latest answer about SMS is a consent in force."""
    latest = (
        await session.execute(
            select(Consent.status, Consent.expires_on)
            .where(Consent.person_id == person_id, Consent.purpose == "contact_sms")
            .order_by(Consent.recorded_at.desc())
            .limit(1)
        )
    ).first()
    if latest is None:
        return False
    return effective_status(ConsentStatus(latest.status), latest.expires_on, today) in VALID


async def print_slip(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal
) -> tuple[str, bytes]:
    """The person's registration slip (their reference and the PDF), audited like a read."""
    person = await get_person(session, person_id, principal)
    today = clock.today()
    office = await office_info(session, person.office_code) if person.office_code else None
    code = person.office_code or ""
    printed = slip.Slip(
        reference=person.reference,
        name_lo=" ".join(filter(None, (person.given_name_lo, person.family_name_lo))) or None,
        name_en=" ".join(filter(None, (person.given_name_en, person.family_name_en))) or None,
        office_name_lo=office.name_lo if office else office_name(code, "lo"),
        office_name_en=office.name_en if office else office_name(code, "en"),
        registered_on=person.created_at.astimezone(clock.LAO_TIME).date(),
        jobseeker=person.jobseeker_status is not None,
        # The slip promises an SMS only to someone who can and agreed to receive one.
        sms=person.phone is not None and await _sms_consented(session, person.id, today),
    )
    await audit.record(session, principal, Action.SLIP_PRINTED, [person.id], fields=slip.PRINTED)
    return person.reference, slip.render(printed)
