"""Registry service wiring: people and their registration events."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.registry.people.api import router as people_router
from shared.app import create_app
from shared.events.topics import REGISTRY_PEOPLE
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="registry",
    package_dir=Path(__file__).parent,
    routers=[people_router],
    consumers=[],
    publishes=[REGISTRY_PEOPLE],
    dev_port=8101,
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.registry.app:create`."""
    return create_app(SPEC)
