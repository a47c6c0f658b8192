"""Notify service wiring: the contact read model, templates, messages and their delivery, and
partner feeds; one consumer group reads every stream it turns into messages or feeds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from services.notify.contacts.handlers import HANDLERS as CONTACT_HANDLERS
from services.notify.delivery.api import router as delivery_router
from services.notify.delivery.handlers import HANDLERS as DELIVERY_HANDLERS
from services.notify.delivery.jobs import JOBS as DELIVERY_JOBS
from services.notify.messages.api import router as messages_router
from services.notify.messages.handlers import HANDLERS as MESSAGE_HANDLERS
from services.notify.messages.person_events import HANDLERS as MESSAGE_PERSON_EVENTS
from services.notify.partners.api import router as partners_router
from services.notify.partners.handlers import HANDLERS as PARTNER_HANDLERS
from services.notify.partners.jobs import JOBS as PARTNER_JOBS
from services.notify.templates.api import router as templates_router
from shared.app import create_app
from shared.consumer import combine_handlers
from shared.events.topics import (
    MATCHING_AGENCIES,
    MATCHING_REFERRALS,
    MATCHING_VACANCIES,
    NOTIFY_DELIVERIES,
    PREDEPARTURE_ORIENTATIONS,
    REGISTRY_PEOPLE,
)
from shared.sealing_consumer import opening_sealed_events
from shared.spec import ConsumerSpec, ServiceSpec

if TYPE_CHECKING:
    from fastapi import FastAPI

SPEC = ServiceSpec(
    name="notify",
    package_dir=Path(__file__).parent,
    routers=[messages_router, templates_router, delivery_router, partners_router],
    consumers=[
        ConsumerSpec(
            group="notify",
            topics=[
                REGISTRY_PEOPLE,
                MATCHING_REFERRALS,
                MATCHING_VACANCIES,
                MATCHING_AGENCIES,
                PREDEPARTURE_ORIENTATIONS,
            ],
            # Contacts first: a message or a feed entry sees the contact as this event left it.
            # Each feature reacts to a person's merge or erasure on its own tables.
            # Registry's sealed person events are opened in one place (shared/sealing_consumer.py)
            # and handed to the v1 handlers; PersonErased also destroys the person's key here.
            handlers=opening_sealed_events(
                combine_handlers(
                    CONTACT_HANDLERS,
                    MESSAGE_HANDLERS,
                    MESSAGE_PERSON_EVENTS,
                    DELIVERY_HANDLERS,
                    PARTNER_HANDLERS,
                )
            ),
        )
    ],
    publishes=[NOTIFY_DELIVERIES],
    jobs=[*DELIVERY_JOBS, *PARTNER_JOBS],
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.notify.app:create`."""
    return create_app(SPEC)
