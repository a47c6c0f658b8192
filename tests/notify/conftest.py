"""Notify's consumer running as its process would, people and events made known to it, and the
tokens of the people who use it."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from shared.events.registry import (
    ConsentChanged,
    ConsentPurpose,
    JobseekerProfile,
    PersonRegistered,
    RegistrationConsent,
)
from tests.support import bearer, deliver

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

    from shared.events import Event
    from shared.events.envelope import CloudEvent
    from shared.settings import Settings


async def send(producer: AIOKafkaProducer, settings: Settings, payload: Event) -> CloudEvent:
    """Publish an event as its service's relay would and wait until notify applied it."""
    return await deliver(producer, settings, "notify", payload)


_made = itertools.count()


def counter_consents(
    *purposes: ConsentPurpose, status: Literal["given", "refused"] = "given"
) -> list[RegistrationConsent]:
    """Consents answered at the counter, as a registration carries them."""
    return [RegistrationConsent(purpose=purpose, status=status) for purpose in purposes]


def person_fields(**overrides: Any) -> dict[str, Any]:
    """A PersonRegistered payload of a jobseeker registered at the Vientiane ESC, with a Lao
    mobile number and an email address of their own, who agreed at the counter to be contacted
    by SMS and email (and to nothing else)."""
    n = next(_made)
    fields: dict[str, Any] = {
        "person_id": uuid.uuid4(),
        "reference": f"P-N{n:07d}",
        "given_name_lo": "ສົມສັກ",
        "family_name_lo": "ພົມມະຈັນ",
        "given_name_en": f"Somsak{n}",
        "family_name_en": "Phommachanh",
        "sex": "male" if n % 2 else "female",
        "date_of_birth": date(1997, 5, 14),
        "phone": f"+85620{55_000_000 + n:08d}",
        "email": f"somsak{n}@example.la",
        "province_code": "LA-VT",
        "office_code": "ESC-VT",
        "registered_by": "esc-vt-1",
        "registered_at": datetime.now(UTC),
        "jobseeker": JobseekerProfile(),
        "consents": counter_consents("contact_sms", "contact_email"),
    }
    return fields | overrides


async def registered(producer: AIOKafkaProducer, settings: Settings, **fields: Any) -> uuid.UUID:
    """A person registry announced to notify as registry does: the registration with the
    consents answered at the counter, then a ConsentChanged for each (their welcome messages
    are queued on the channels they agreed to)."""
    payload = PersonRegistered(**person_fields(**fields))
    await send(producer, settings, payload)
    for answer in payload.consents:
        await send(
            producer,
            settings,
            ConsentChanged(
                person_id=payload.person_id,
                consent_id=uuid.uuid4(),
                purpose=answer.purpose,
                agency=answer.agency,
                category=answer.category,
                status=answer.status,
                expires_on=answer.expires_on,
                method="signed",
                recorded_by=payload.registered_by,
                office_code=payload.office_code,
                recorded_at=payload.registered_at,
            ),
        )
    return payload.person_id


def admin(settings: Settings) -> dict[str, str]:
    return bearer(settings, "admin-1", ["admin"])


def esc_staff(settings: Settings, province: str = "LA-VT") -> dict[str, str]:
    suffix = province.removeprefix("LA-")
    return bearer(
        settings,
        f"esc-{suffix.lower()}-1",
        ["esc_staff"],
        office=f"ESC-{suffix}",
        province=province,
    )
