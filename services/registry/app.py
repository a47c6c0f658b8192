"""Registry service wiring: people, their consent, and the events about them."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.registry.consent.api import router as consent_router
from services.registry.migration.api import router as migration_router
from services.registry.people.api import router as people_router
from shared.app import create_app
from shared.events.topics import REGISTRY_PEOPLE
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="registry",
    package_dir=Path(__file__).parent,
    routers=[people_router, consent_router, migration_router],
    consumers=[],
    publishes=[REGISTRY_PEOPLE],
    dev_port=8101,
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.registry.app:create`."""
    return create_app(SPEC)
