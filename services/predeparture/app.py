"""Pre-departure service wiring: curricula, sessions and enrolment, attendance, completions
and certificates, outreach, reports, the audit trail; the read model of learners from
registry's events."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from services.predeparture.attendance.api import router as attendance_router
from services.predeparture.attendance.person_events import HANDLERS as ATTENDANCE_PERSON_EVENTS
from services.predeparture.audit.api import router as audit_router
from services.predeparture.completions.api import router as completions_router
from services.predeparture.completions.person_events import HANDLERS as COMPLETION_PERSON_EVENTS
from services.predeparture.curricula.api import router as curricula_router
from services.predeparture.learners.api import router as learners_router
from services.predeparture.learners.handlers import ERASURE as LEARNER_ERASURE
from services.predeparture.learners.handlers import HANDLERS as LEARNER_HANDLERS
from services.predeparture.outreach.api import router as outreach_router
from services.predeparture.reports.api import router as reports_router
from services.predeparture.sessions.api import router as sessions_router
from services.predeparture.sessions.person_events import HANDLERS as SESSION_PERSON_EVENTS
from shared.app import create_app
from shared.consumer import combine_handlers
from shared.events.topics import MATCHING_REFERRALS, PREDEPARTURE_ORIENTATIONS, REGISTRY_PEOPLE
from shared.sealing_consumer import opening_sealed_events
from shared.spec import ConsumerSpec, ServiceSpec

if TYPE_CHECKING:
    from fastapi import FastAPI

SPEC = ServiceSpec(
    name="predeparture",
    package_dir=Path(__file__).parent,
    routers=[
        curricula_router,
        sessions_router,
        attendance_router,
        completions_router,
        learners_router,
        outreach_router,
        reports_router,
        audit_router,
    ],
    consumers=[
        ConsumerSpec(
            group="predeparture",
            topics=[REGISTRY_PEOPLE, MATCHING_REFERRALS],
            # Each feature reacts to a person's merge or erasure on its own tables, in this
            # order. A merge: the learners read model first (it locks both learners' rows before
            # enrolments lock sessions, as the merge always did), completions last (they
            # recompute the survivor from the attendance moved before). An erasure: the
            # learners rows go last, as the others find the records merged into the person
            # through them.
            # Registry's sealed person events are opened in one place (shared/sealing_consumer.py)
            # and handed to the v1 handlers; PersonErased also destroys the person's key here.
            handlers=opening_sealed_events(
                combine_handlers(
                    LEARNER_HANDLERS,
                    SESSION_PERSON_EVENTS,
                    ATTENDANCE_PERSON_EVENTS,
                    COMPLETION_PERSON_EVENTS,
                    LEARNER_ERASURE,
                )
            ),
        )
    ],
    publishes=[PREDEPARTURE_ORIENTATIONS],
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.predeparture.app:create`."""
    return create_app(SPEC)
