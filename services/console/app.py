"""Console wiring: the staff's web pages over the four services' public APIs.

Server-rendered HTML (Jinja2), htmx for partial updates, every page a plain form first. Its
database holds sign-in sessions only: no personal data of jobseekers is ever stored here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from services.console.auth import dev, oidc
from services.console.auth.api import router as auth_router
from services.console.home.api import router as home_router
from services.console.imports.api import router as imports_router
from services.console.offline import api as offline
from services.console.people.api import router as people_router
from services.console.registration.api import router as registration_router
from services.console.sessions.jobs import JOBS as SESSION_JOBS
from services.console.web.api import fallback_router
from services.console.web.api import router as web_router
from services.console.web.state import router as static_router
from shared.app import create_app
from shared.spec import ServiceSpec

if TYPE_CHECKING:
    from fastapi import FastAPI

SPEC = ServiceSpec(
    name="console",
    package_dir=Path(__file__).parent,
    routers=[
        static_router,  # first: it carries the lifespan that sets the console up
        web_router,
        auth_router,
        dev.router,
        oidc.router,
        home_router,
        people_router,
        registration_router,
        imports_router,
        offline.assets,  # the service worker and the offline script's words
        offline.router,
        fallback_router,  # last: any other address is a "page not found" page
    ],
    jobs=[*SESSION_JOBS],
)


def create() -> FastAPI:
    """Uvicorn factory: `uvicorn --factory services.console.app:create`."""
    return create_app(SPEC)
