"""Registry service wiring: people, their consent, lifecycle and the events about them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from services.registry.audit.api import router as audit_router
from services.registry.consent.api import router as consent_router
from services.registry.erasures.jobs import JOBS as RETENTION_JOBS
from services.registry.imports.api import router as imports_router
from services.registry.jobseekers.api import router as jobseekers_router
from services.registry.jobseekers.handlers import HANDLERS as JOBSEEKER_HANDLERS
from services.registry.keys.api import router as person_keys_router
from services.registry.keys.service import note_publishing
from services.registry.migration_records.api import router as migration_router
from services.registry.migration_records.handlers import HANDLERS as MIGRATION_HANDLERS
from services.registry.migration_records.jobs import JOBS as MIGRATION_JOBS
from services.registry.offices.api import router as offices_router
from services.registry.people.api import router as people_router
from services.registry.serving.api import router as serving_router
from services.registry.serving.handlers import HANDLERS as SERVING_HANDLERS
from shared.app import create_app
from shared.consumer import Handler, combine_handlers
from shared.events.topics import (
    MATCHING_REFERRALS,
    PREDEPARTURE_ORIENTATIONS,
    REGISTRY_ERASURES,
    REGISTRY_PEOPLE,
)
from shared.spec import ConsumerSpec, PeriodicJob, ServiceSpec

if TYPE_CHECKING:
    from collections.abc import Mapping

    from fastapi import FastAPI

    from shared.events import CloudEvent, Event
    from shared.work import Work

# Whether person events go out with their v1 twins (an upgrade's migration window,
# keys/service.py) is the process's setting: noted on each transaction that may publish them,
# a request's (each router that publishes them: keys/api.py PublishingNoted), a consumed
# event's and a job pass's (below).


def _handlers_publishing(handlers: Mapping[str, Handler]) -> dict[str, Handler]:
    def noting(handler: Handler) -> Handler:
        async def noted(work: Work, event: CloudEvent, payload: Event) -> None:
            note_publishing(work.session, work.settings)
            await handler(work, event, payload)

        return noted

    return {event_type: noting(handler) for event_type, handler in handlers.items()}


def _job_publishing(job: PeriodicJob) -> PeriodicJob:
    run = job.run

    async def noted(work: Work) -> int:
        note_publishing(work.session, work.settings)
        return await run(work)

    return dataclasses.replace(job, run=noted)


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
        person_keys_router,
    ],
    consumers=[
        ConsumerSpec(
            group="registry",
            topics=[MATCHING_REFERRALS, PREDEPARTURE_ORIENTATIONS],
            handlers=_handlers_publishing(
                combine_handlers(JOBSEEKER_HANDLERS, MIGRATION_HANDLERS, SERVING_HANDLERS)
            ),
        )
    ],
    publishes=[REGISTRY_PEOPLE, REGISTRY_ERASURES],
    jobs=[_job_publishing(job) for job in (*MIGRATION_JOBS, *RETENTION_JOBS)],
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.registry.app:create`."""
    return create_app(SPEC)
