"""The one FastAPI app factory: health, readiness, metrics, problem+json, request context."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated

from aiokafka.admin import AIOKafkaAdminClient
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from shared import openapi
from shared.control_chars import refuse_control_characters
from shared.db import create_engine, session_factory
from shared.http_hygiene import ResponseHygiene, swagger_page
from shared.http_limits import HttpLimits
from shared.observability import RequestContextMiddleware, configure_logging
from shared.problems import FieldError, InvalidFields, install_problem_handlers
from shared.settings import Settings, get_settings
from shared.spec import ServiceSpec


def app_settings(request: Request) -> Settings:
    """The settings the app serving `request` was created with: for a route that takes the
    `Request` already, one dependency fewer than `SettingsDep` (FastAPI solves each dependency
    of a route on every request, 10 to 20 µs apiece)."""
    settings: Settings = request.app.state.settings
    return settings


# async although it awaits nothing: FastAPI runs a plain `def` dependency in a worker thread,
# a thread hand-off on every request for one attribute read.
async def _app_settings(request: Request) -> Settings:
    return app_settings(request)


# The settings the app was created with (tests create apps with settings of their own).
SettingsDep = Annotated[Settings, Depends(_app_settings)]


class _BrokerProbe:
    """Keeps one admin client to answer "is the broker reachable" cheaply."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: AIOKafkaAdminClient | None = None

    async def check(self) -> None:
        if self.client is None:
            client = AIOKafkaAdminClient(
                bootstrap_servers=self.settings.bootstrap_servers, request_timeout_ms=3000
            )
            await client.start()
            self.client = client
        try:
            await self.client.list_topics()
        except Exception:
            await self.close()
            raise

    async def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
            self.client = None


# Swagger UI, vendored by `python -m shared.vendor`.
SWAGGER_UI = Path(__file__).resolve().parent / "static" / "swagger-ui"
DOCS_ASSETS = "/docs-assets"


def _query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters a route declares, its dependencies' included (one by one: no
    route takes a pydantic model of query parameters; the OpenAPI-derived test would see it)."""
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(field.alias for field in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(names)


async def _refuse_unknown_query(request: Request) -> None:
    """A query parameter the route does not take is refused, not ignored: `?phone=` on a list
    that has no such filter used to answer the whole list, as if the filter had matched."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    names: dict[str, frozenset[str]] = request.app.state.query_names
    known = names.get(route.unique_id)
    if known is None:  # a route added after the app was made
        known = names[route.unique_id] = _query_names(route)
    if unknown := [name for name in dict.fromkeys(request.query_params) if name not in known]:
        takes = ", ".join(sorted(known)) or "none"
        raise InvalidFields(
            [
                FieldError(name, f"is not a parameter of this route (it takes: {takes})", "unknown")
                for name in unknown
            ]
        )


async def _request_checks(request: Request) -> None:
    """What every route refuses before its own work, in this order: a method the path's more
    literal route does not take (405), a query parameter the route does not take, control
    characters. One app-wide dependency, not three: FastAPI solves each on every request."""
    await openapi.refuse_undocumented_method(request)
    await _refuse_unknown_query(request)
    await refuse_control_characters(request)


class _ServiceApp(FastAPI):
    """FastAPI with labourx's own middleware outermost, around Starlette's error middleware:
    a 500 is answered inside the request's context (its id in the problem and the headers),
    and every answer, refusals and 500s included, gets the response headers. One layer: the
    request context applies the HTTP limits and the response hygiene itself."""

    def build_middleware_stack(self) -> ASGIApp:
        settings: Settings = self.state.settings
        # Public and the same for everyone: the documentation's assets and pages may be cached.
        cacheable = (DOCS_ASSETS, "/docs", "/openapi.json")
        return RequestContextMiddleware(
            super().build_middleware_stack(),
            service=self.state.service,
            limits=HttpLimits(settings),
            hygiene=ResponseHygiene(settings, cacheable),
        )


def create_app(
    spec: ServiceSpec, settings: Settings | None = None, engine: AsyncEngine | None = None
) -> FastAPI:
    """Build a service's API from its spec. `engine`: a pool shared with the other parts of the
    process (development runs a whole service in one; its owner disposes of it)."""
    settings = settings or get_settings()
    configure_logging(spec.name, settings.log_level, settings.log_format)
    app = _ServiceApp(
        title=f"labourx {spec.name}",
        version="0.1.0",
        lifespan=_lifespan(spec, settings, engine),
        # Off in production unless LABOURX_API_DOCS says otherwise: the documents map every
        # route and field for whoever reaches the port (tests read app.openapi() directly).
        openapi_url="/openapi.json" if settings.api_docs_enabled else None,
        # /docs is served below from the service's own copy of Swagger UI: FastAPI's default
        # page loads it from a CDN, which an office with no route to one sees as a blank page.
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(_request_checks)],
        # The service's metrics are Prometheus' and its logs its own (shared/observability.py):
        # FastAPI's OpenTelemetry bridge is unused, and left on it looks up three global
        # providers on every request to see whether one was configured since (about 5 µs).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.service = spec.name
    app.state.settings = settings
    install_problem_handlers(app)
    # The operations routes first, in this order, then the service's own: the router tries
    # routes in the order they were added, so a service's route cannot shadow a probe.
    _add_probes(app)
    if settings.api_docs_enabled:
        _add_docs(app, spec.name)
    if settings.metrics_on_api_port:
        # In production /metrics is on LABOURX_METRICS_PORT only (`labourx api` serves it).
        _add_metrics(app)
    for router in spec.routers:
        app.include_router(router)
    openapi.install(app)  # the errors each operation answers, in its document
    # Worked out once: the dependency above looks each route's names up on every request.
    app.state.query_names = {
        route.unique_id: _query_names(route) for route in app.routes if isinstance(route, APIRoute)
    }
    return app


# The steps of create_app, each on its own so that the factory reads as the list of what an
# API is made of; each is called once, in create_app's order.


def _lifespan(
    spec: ServiceSpec, settings: Settings, shared_engine: AsyncEngine | None
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """What the app opens at startup and closes at shutdown: its pool (unless it was given one
    to share, which its owner disposes of) and the broker probe."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = shared_engine or create_engine(settings, spec.name)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        app.state.broker = _BrokerProbe(settings)
        # What is alive once started (modules, reference data such as laonlp's 100,000-node
        # dictionary trie) lives as long as the process: kept out of the garbage collector's
        # full passes, which otherwise walk it every few seconds and stall a request by
        # 150-200 ms (seen as the p99 of roster entry in bench/predeparture_queries.py).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await app.state.broker.close()
            if shared_engine is None:
                await engine.dispose()

    return lifespan


def _add_probes(app: FastAPI) -> None:
    """/healthz and /readyz, for the orchestrator; out of the OpenAPI document."""

    @app.get("/healthz", tags=["ops"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready: the service's database and the broker both answer."""
        checks: dict[str, str] = {}
        try:
            async with app.state.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), 3)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        try:
            await asyncio.wait_for(app.state.broker.check(), 5)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )


def _add_docs(app: FastAPI, service: str) -> None:
    """/docs: Swagger UI from the service's own copy (its assets under DOCS_ASSETS)."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=SWAGGER_UI), name="docs-assets")
    docs_page = swagger_page(f"labourx {service}: API", "/openapi.json", DOCS_ASSETS)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return docs_page()


def _add_metrics(app: FastAPI) -> None:
    """/metrics on the API's own port (development and tests)."""

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
