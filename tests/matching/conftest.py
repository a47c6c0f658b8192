"""Matching's consumer running as its process would, and people made known to it by events."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from shared.events.registry import ConsentChanged, PersonRegistered, PersonUpdated
from tests.support import deliver

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings


_made = itertools.count()


def person_fields(**overrides: Any) -> dict[str, Any]:
    """A PersonRegistered payload of a jobseeker; `overrides` replace any field."""
    n = next(_made)
    fields: dict[str, Any] = {
        "person_id": uuid.uuid4(),
        "reference": f"P-M{n:07d}",
        "given_name_en": f"Candidate{n}",
        "family_name_en": "Test",
        "sex": "female" if n % 2 else "male",
        "date_of_birth": date(1995, 1, 1),
        "province_code": "LA-VT",
        "registered_by": "officer-vt-1",
        "registered_at": datetime.now(UTC),
        "jobseeker": {"status": "active"},
    }
    return fields | overrides


async def send(producer: AIOKafkaProducer, settings: Settings, payload: Any) -> uuid.UUID:
    """Publish an event as its service's relay would and wait until matching applied it."""
    return (await deliver(producer, settings, "matching", payload)).id


def consent(person_id: uuid.UUID, status: str = "given", **extra: Any) -> ConsentChanged:
    return ConsentChanged(
        person_id=person_id,
        consent_id=uuid.uuid4(),
        purpose="job_matching",
        status=status,
        method="signed",
        recorded_by="officer-vt-1",
        recorded_at=datetime.now(UTC),
        **extra,
    )


async def candidate(
    producer: AIOKafkaProducer, settings: Settings, *, consented: bool = True, **fields: Any
) -> uuid.UUID:
    """A person registry announced (and who consented to matching, unless told otherwise)."""
    payload = PersonRegistered(**person_fields(**fields))
    await send(producer, settings, payload)
    if consented:
        await send(producer, settings, consent(payload.person_id))
    return payload.person_id


def updated(registered: dict[str, Any], version: int, **changes: Any) -> PersonUpdated:
    """The PersonUpdated registry would send after changing `changes` of a registration."""
    fields = {k: v for k, v in registered.items() if k not in ("registered_by", "registered_at")}
    return PersonUpdated(
        **(fields | changes),
        changed_fields=sorted(changes),
        record_version=version,
        updated_by="officer-vt-1",
        updated_at=datetime.now(UTC),
    )
