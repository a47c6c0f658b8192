"""Matching service wiring: employers, agencies, vacancies, candidates, ranking, referrals."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.matching.agencies.api import router as agencies_router
from services.matching.agencies.expiry import expire_licences
from services.matching.candidates.api import router as candidates_router
from services.matching.candidates.handlers import HANDLERS as CANDIDATE_HANDLERS
from services.matching.employers.api import router as employers_router
from services.matching.ranking.api import router as ranking_router
from services.matching.recruitment.api import router as recruitment_router
from services.matching.referrals.api import placements as placements_router
from services.matching.referrals.api import router as referrals_router
from services.matching.vacancies.api import router as vacancies_router
from services.matching.vacancies.expiry import expire_vacancies
from shared.app import create_app
from shared.events.topics import (
    MATCHING_AGENCIES,
    MATCHING_REFERRALS,
    MATCHING_VACANCIES,
    PREDEPARTURE_ORIENTATIONS,
    REGISTRY_PEOPLE,
)
from shared.service import ConsumerSpec, PeriodicJob, ServiceSpec

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
            handlers=CANDIDATE_HANDLERS,
        )
    ],
    publishes=[MATCHING_AGENCIES, MATCHING_REFERRALS, MATCHING_VACANCIES],
    jobs=[
        PeriodicJob("licence-expiry", expire_licences),
        PeriodicJob("vacancy-expiry", expire_vacancies),
    ],
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.matching.app:create`."""
    return create_app(SPEC)
