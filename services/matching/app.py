"""Matching service wiring: vacancies, agencies, referrals (built out by its own issue)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from shared.app import create_app
from shared.events.topics import MATCHING_AGENCIES, MATCHING_REFERRALS, MATCHING_VACANCIES
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="matching",
    package_dir=Path(__file__).parent,
    routers=[],
    consumers=[],
    publishes=[MATCHING_AGENCIES, MATCHING_REFERRALS, MATCHING_VACANCIES],
    dev_port=8102,
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.matching.app:create`."""
    return create_app(SPEC)
