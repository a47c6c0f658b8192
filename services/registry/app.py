"""Registry service wiring: people, their consent, lifecycle and the events about them."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.registry.audit.api import router as audit_router
from services.registry.consent.api import router as consent_router
from services.registry.imports.api import router as imports_router
from services.registry.jobseekers.api import router as jobseekers_router
from services.registry.jobseekers.handlers import on_placement_ended, on_referral_status_changed
from services.registry.migration_records.api import router as migration_router
from services.registry.migration_records.handlers import on_placement_made
from services.registry.migration_records.reminders import send_return_reminders
from services.registry.offices.api import router as offices_router
from services.registry.people.api import router as people_router
from services.registry.serving.api import router as serving_router
from services.registry.serving.handlers import on_enrolment_changed
from shared.app import create_app
from shared.events.matching import PlacementEnded, PlacementMade, ReferralStatusChanged
from shared.events.predeparture import EnrolmentChanged
from shared.events.topics import MATCHING_REFERRALS, PREDEPARTURE_ORIENTATIONS, REGISTRY_PEOPLE
from shared.spec import ConsumerSpec, PeriodicJob, ServiceSpec

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
            handlers={
                ReferralStatusChanged.event_type(): on_referral_status_changed,
                PlacementMade.event_type(): on_placement_made,
                PlacementEnded.event_type(): on_placement_ended,
                # An enrolment at another province's office makes that office serve the person.
                EnrolmentChanged.event_type(): on_enrolment_changed,
            },
        )
    ],
    publishes=[REGISTRY_PEOPLE],
    jobs=[PeriodicJob("return-reminders", send_return_reminders)],
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.registry.app:create`."""
    return create_app(SPEC)
