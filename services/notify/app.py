"""Notify service wiring: contacts, templates and messages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.notify.messages.api import router as messages_router
from services.notify.messages.handlers import HANDLERS
from shared.app import create_app
from shared.events.topics import NOTIFY_DELIVERIES, REGISTRY_PEOPLE
from shared.service import ConsumerSpec, ServiceSpec

SPEC = ServiceSpec(
    name="notify",
    package_dir=Path(__file__).parent,
    routers=[messages_router],
    consumers=[ConsumerSpec(group="notify", topics=[REGISTRY_PEOPLE], handlers=HANDLERS)],
    publishes=[NOTIFY_DELIVERIES],
    dev_port=8104,
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.notify.app:create`."""
    return create_app(SPEC)
