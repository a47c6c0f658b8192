"""Building and producing `person.registered` events for tests that bypass the registry API."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from shared.events.envelope import CloudEvent, envelope_for, record_headers
from shared.events.registry import PersonRegistered, RegistrationConsent
from shared.events.topics import REGISTRY_PEOPLE

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer


def person_registered(
    n: int = 0,
    *,
    person_id: uuid.UUID | None = None,
    phone: str | None = None,
    language: str = "lo",
) -> PersonRegistered:
    """The `n`th test registration; a phone makes notify queue an SMS."""
    return PersonRegistered(
        person_id=person_id or uuid.uuid4(),
        reference="P-TESTTEST",
        given_name_en=f"Test{n}",
        sex="female" if n % 2 else "male",
        date_of_birth=date(1995, 1, 1),
        phone=phone,
        province_code="LA-VT",
        preferred_language=language,
        registered_by="test",
        registered_at=datetime.now(UTC),
        # Notify sends SMS only with consent: the person agreed to SMS at the counter.
        consents=[RegistrationConsent(purpose="contact_sms", status="given")] if phone else [],
    )


def registered(
    n: int = 0, *, person_id: uuid.UUID | None = None, phone: str | None = None
) -> CloudEvent:
    """The envelope of `person_registered(...)`, as the outbox would publish it."""
    return envelope_for(person_registered(n, person_id=person_id, phone=phone))


def phone_for(n: int) -> str:
    """A distinct, valid Lao mobile number per `n`."""
    return f"+856205{n:07d}"


async def publish(
    producer: AIOKafkaProducer, envelope: CloudEvent, topic: str = REGISTRY_PEOPLE
) -> None:
    """Send as the relay does (key = subject, CloudEvents header) and wait for the ack."""
    await producer.send_and_wait(
        topic, envelope.to_bytes(), key=envelope.subject.encode(), headers=record_headers()
    )
