"""Predeparture's consumer running as its process would, people made known to it by events,
and the tokens of the people who use it."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from services.predeparture.app import SPEC as PREDEPARTURE
from shared.events.registry import MigrationStatusChanged, PersonRegistered
from shared.settings import Settings
from tests.support import bearer, deliver, running_consumer


@pytest.fixture(scope="session")
async def predeparture_consumer(migrated: Settings) -> AsyncIterator[None]:
    async with running_consumer(PREDEPARTURE, migrated):
        yield


async def send(producer: AIOKafkaProducer, settings: Settings, payload: Any) -> uuid.UUID:
    """Publish an event as its service's relay would and wait until predeparture applied it."""
    return (await deliver(producer, settings, "predeparture", payload)).id


_made = itertools.count()


def person_fields(**overrides: Any) -> dict[str, Any]:
    """A PersonRegistered payload of someone registered at the Savannakhet MRC."""
    n = next(_made)
    fields: dict[str, Any] = {
        "person_id": uuid.uuid4(),
        "reference": f"P-D{n:07d}",
        "given_name_lo": "ບຸນມີ",
        "family_name_lo": "ສີສຸວັນ",
        "given_name_en": f"Bounmy{n}",
        "family_name_en": "Sisouvanh",
        "sex": "female" if n % 2 else "male",
        "date_of_birth": date(1998, 3, 1),
        "province_code": "LA-SV",
        "office_code": "MRC-SV",
        "registered_by": "mrc-sv-1",
        "registered_at": datetime.now(UTC),
    }
    return fields | overrides


def migration(person_id: uuid.UUID, status: str = "prospective", country: str = "TH") -> Any:
    return MigrationStatusChanged(
        person_id=person_id,
        migration_id=uuid.uuid5(person_id, "migration"),
        status=status,
        destination_country=country,
        channel="mou",
        changed_by="mrc-sv-1",
        changed_at=datetime.now(UTC),
    )


async def learner(producer: AIOKafkaProducer, settings: Settings, **fields: Any) -> uuid.UUID:
    """A person registry announced to predeparture."""
    payload = PersonRegistered(**person_fields(**fields))
    await send(producer, settings, payload)
    return payload.person_id


def mrc_staff(
    settings: Settings, office: str = "MRC-SV", province: str = "LA-SV"
) -> dict[str, str]:
    """An officer of a Migrant Resource Centre (Savannakhet by default)."""
    return bearer(settings, f"{office.lower()}-1", ["mrc_staff"], office=office, province=province)


def esc_officer(settings: Settings, province: str = "LA-SV") -> dict[str, str]:
    suffix = province.removeprefix("LA-")
    return bearer(
        settings,
        f"esc-{suffix.lower()}-1",
        ["esc_staff"],
        office=f"ESC-{suffix}",
        province=province,
    )


def analyst(settings: Settings) -> dict[str, str]:
    return bearer(settings, "analyst-1", ["analyst"], national=True)


def admin(settings: Settings) -> dict[str, str]:
    return bearer(settings, "admin-1", ["admin"])
