"""Matching service wiring: employers, agencies, vacancies, candidates, ranking, referrals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from services.matching.agencies.api import router as agencies_router
from services.matching.agencies.jobs import JOBS as AGENCY_JOBS
from services.matching.candidates.api import router as candidates_router
from services.matching.candidates.handlers import HANDLERS as CANDIDATE_HANDLERS
from services.matching.employers.api import router as employers_router
from services.matching.ranking.api import router as ranking_router
from services.matching.recruitment.api import router as recruitment_router
from services.matching.recruitment.person_events import HANDLERS as RECRUITMENT_PERSON_EVENTS
from services.matching.referrals.api import placements as placements_router
from services.matching.referrals.api import router as referrals_router
from services.matching.referrals.person_events import HANDLERS as REFERRAL_PERSON_EVENTS
from services.matching.vacancies.api import router as vacancies_router
from services.matching.vacancies.jobs import JOBS as VACANCY_JOBS
from shared.app import create_app
from shared.consumer import combine_handlers
from shared.events.topics import (
    MATCHING_AGENCIES,
    MATCHING_REFERRALS,
    MATCHING_VACANCIES,
    PREDEPARTURE_ORIENTATIONS,
    REGISTRY_PEOPLE,
)
from shared.sealing_consumer import opening_sealed_events
from shared.spec import ConsumerSpec, ServiceSpec

if TYPE_CHECKING:
    from fastapi import FastAPI

SPEC = ServiceSpec(
    name="matching",
    package_dir=Path(__file__).parent,
    routers=[
        employers_router,
        agencies_router,
        vacancies_router,
        ranking_router,
        referrals_router,
        placements_router,
        candidates_router,
        recruitment_router,
    ],
    consumers=[
        ConsumerSpec(
            group="matching",
            topics=[REGISTRY_PEOPLE, PREDEPARTURE_ORIENTATIONS],
            # Each feature reacts to a person's merge or erasure on its own tables, in this
            # order: the candidate read model (it locks the person's rows), referrals, recruitment.
            # Registry's sealed person events are opened in one place (shared/sealing_consumer.py)
            # and handed to the v1 handlers; PersonErased also destroys the person's key here.
            handlers=opening_sealed_events(
                combine_handlers(
                    CANDIDATE_HANDLERS, REFERRAL_PERSON_EVENTS, RECRUITMENT_PERSON_EVENTS
                )
            ),
        )
    ],
    publishes=[MATCHING_AGENCIES, MATCHING_REFERRALS, MATCHING_VACANCIES],
    jobs=[*AGENCY_JOBS, *VACANCY_JOBS],
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.matching.app:create`."""
    return create_app(SPEC)
