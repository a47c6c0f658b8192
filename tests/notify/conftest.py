"""Notify's consumer running as its process would, people and events made known to it, and the
tokens of the people who use it."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.events import Event
from shared.events.envelope import CloudEvent
from shared.events.registry import PersonRegistered
from shared.settings import Settings
from tests.support import bearer, deliver


async def send(producer: AIOKafkaProducer, settings: Settings, payload: Event) -> CloudEvent:
    """Publish an event as its service's relay would and wait until notify applied it."""
    return await deliver(producer, settings, "notify", payload)


_made = itertools.count()


def person_fields(**overrides: Any) -> dict[str, Any]:
    """A PersonRegistered payload of someone registered at the Vientiane ESC, with a Lao mobile
    number and an email address of their own."""
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
    }
    return fields | overrides


async def registered(producer: AIOKafkaProducer, settings: Settings, **fields: Any) -> uuid.UUID:
    """A person registry announced to notify (their welcome messages are queued)."""
    payload = PersonRegistered(**person_fields(**fields))
    await send(producer, settings, payload)
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
