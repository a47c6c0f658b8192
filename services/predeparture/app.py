"""Pre-departure service wiring: orientation (built out by its own issue)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from shared.app import create_app
from shared.events.topics import PREDEPARTURE_ORIENTATIONS
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="predeparture",
    package_dir=Path(__file__).parent,
    routers=[],
    consumers=[],
    publishes=[PREDEPARTURE_ORIENTATIONS],
    dev_port=8103,
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.predeparture.app:create`."""
    return create_app(SPEC)
