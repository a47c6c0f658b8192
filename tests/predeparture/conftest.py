"""Predeparture's consumer running as its process would, people made known to it by events,
and the tokens of the people who use it."""

from __future__ import annotations

import contextlib
import itertools
import shutil
import subprocess
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from services.predeparture.app import SPEC as PREDEPARTURE
from shared.app import create_app
from shared.events.registry import MigrationStatusChanged, PersonRegistered, PersonServedAt
from tests.support import bearer, deliver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings


# Tests that count figures over a period of their own, years back, record outreach there.
ARCHIVE_DAYS = 365 * 30


@contextlib.asynccontextmanager
async def client_with(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of a predeparture API built with `settings`."""
    app = create_app(PREDEPARTURE, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture(scope="session")
async def archive_client(migrated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A predeparture API whose late-entry window reaches decades back, so that a test may
    record outreach in a period no other test counts in."""
    settings = migrated.model_copy(update={"predeparture_late_entry_days": ARCHIVE_DAYS})
    async with client_with(settings) as client:
        yield client


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


async def served_at(
    producer: AIOKafkaProducer,
    settings: Settings,
    person_id: uuid.UUID,
    office: str,
    province: str,
    basis: str = "visit",
) -> None:
    """Registry's news that `office` (of `province`) now serves a person of another province."""
    await send(
        producer,
        settings,
        PersonServedAt(
            person_id=person_id,
            office_code=office,
            office_province_code=province,
            basis=basis,
            recorded_by=f"{office.lower()}-1",
            recorded_at=datetime.now(UTC),
        ),
    )


def pdf_text(pdf: bytes) -> str:
    """The text a PDF prints, as poppler's pdftotext reads it (Lao included: labourx embeds
    each font's Unicode map)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian's poppler-utils) reads the printed text")
    # -raw: in the order it was drawn, so a Lao line's marks follow their consonants.
    done = subprocess.run(
        ["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode()
