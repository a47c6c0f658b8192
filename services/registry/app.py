"""Registry service wiring: people, their consent, lifecycle and the events about them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from services.registry.audit.api import router as audit_router
from services.registry.consent.api import router as consent_router
from services.registry.erasures.jobs import JOBS as RETENTION_JOBS
from services.registry.imports.api import router as imports_router
from services.registry.jobseekers.api import router as jobseekers_router
from services.registry.jobseekers.handlers import HANDLERS as JOBSEEKER_HANDLERS
from services.registry.migration_records.api import router as migration_router
from services.registry.migration_records.handlers import HANDLERS as MIGRATION_HANDLERS
from services.registry.migration_records.jobs import JOBS as MIGRATION_JOBS
from services.registry.offices.api import router as offices_router
from services.registry.people.api import router as people_router
from services.registry.serving.api import router as serving_router
from services.registry.serving.handlers import HANDLERS as SERVING_HANDLERS
from shared.app import create_app
from shared.consumer import combine_handlers
from shared.events.topics import (
    MATCHING_REFERRALS,
    PREDEPARTURE_ORIENTATIONS,
    REGISTRY_ERASURES,
    REGISTRY_PEOPLE,
)
from shared.spec import ConsumerSpec, ServiceSpec

if TYPE_CHECKING:
    from fastapi import FastAPI

SPEC = ServiceSpec(
    name="registry",
    package_dir=Path(__file__).parent,
    routers=[
        people_router,
        jobseekers_router,
        consent_router,
        migration_router,
        imports_router,
        serving_router,
        offices_router,
        audit_router,
    ],
    consumers=[
        ConsumerSpec(
            group="registry",
            topics=[MATCHING_REFERRALS, PREDEPARTURE_ORIENTATIONS],
            handlers=combine_handlers(JOBSEEKER_HANDLERS, MIGRATION_HANDLERS, SERVING_HANDLERS),
        )
    ],
    publishes=[REGISTRY_PEOPLE, REGISTRY_ERASURES],
    jobs=[*MIGRATION_JOBS, *RETENTION_JOBS],
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.registry.app:create`."""
    return create_app(SPEC)
