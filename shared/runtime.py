"""Running a service's parts as long-lived processes with clean shutdown.

Production runs each part on its own (`labourx api | relay | consume | jobs`), so each scales
and fails alone. Development runs one process per service with every part as a task of one
event loop (`labourx run`), which is what keeps `make run` small enough for an office laptop.

Heavy modules (SQLAlchemy, FastAPI, the service's code) are imported inside the functions that
need them: a relay process imports none of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

import uvloop
from prometheus_client import start_http_server

from shared.observability import configure_logging
from shared.settings import Settings, with_database

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, Iterator

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.spec import ConsumerSpec, ServiceSpec

log = logging.getLogger(__name__)


def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `main(stop)` on uvloop; SIGINT or SIGTERM sets `stop` so loops finish their current
    step. uvloop, as uvicorn gives the APIs: a consumer or relay process on the standard loop
    spent about 15 % of its CPU in the loop itself (docs/performance.md, issue 19)."""

    async def _wrapper() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    uvloop.run(_wrapper())


def serve_metrics(port: int | None, settings: Settings) -> None:
    """Serve /metrics: on loopback for `--metrics-port` (a runner on this machine), on every
    interface for LABOURX_METRICS_PORT (containers, scraped by a Prometheus elsewhere)."""
    if port:
        start_http_server(port, addr="127.0.0.1")
    elif settings.metrics_port:
        start_http_server(settings.metrics_port, addr="0.0.0.0")


def run_relay(service: str, settings: Settings, metrics_port: int | None = None) -> None:
    """A relay process: moves the service's outbox rows to the broker, nothing else."""
    from shared.outbox.relay import OutboxRelay

    configure_logging(f"{service}-relay", settings.log_level, settings.log_format)
    serve_metrics(metrics_port, settings)
    run_until_signalled(OutboxRelay(settings, service).run)


def consumer_for(spec: ServiceSpec, group: str) -> ConsumerSpec:
    for consumer in spec.consumers:
        if consumer.group == group:
            return consumer
    raise KeyError(f"{spec.name} has no consumer group {group!r}")


def run_consumer(
    spec: ServiceSpec, group: str, settings: Settings, metrics_port: int | None = None
) -> None:
    from shared.db import create_engine, session_factory

    configure_logging(f"{spec.name}-consumer", settings.log_level, settings.log_format)
    serve_metrics(metrics_port, settings)
    consumer = consumer_for(spec, group)

    async def _main(stop: asyncio.Event) -> None:
        engine = create_engine(settings, spec.name)
        try:
            await consumer.runner(settings, session_factory(engine)).run(stop)
        finally:
            await engine.dispose()

    run_until_signalled(_main)


def run_jobs(spec: ServiceSpec, settings: Settings, metrics_port: int | None = None) -> None:
    from shared.db import create_engine, session_factory
    from shared.jobs import run_periodic

    configure_logging(f"{spec.name}-jobs", settings.log_level, settings.log_format)
    serve_metrics(metrics_port, settings)

    async def _main(stop: asyncio.Event) -> None:
        engine = create_engine(settings, spec.name)
        try:
            await run_periodic(
                spec.jobs, settings, session_factory(engine), stop, dsn=_dsn(settings, spec.name)
            )
        finally:
            await engine.dispose()

    run_until_signalled(_main)


def _dsn(settings: Settings, service: str) -> str:
    """The service database in the form asyncpg's own connections (LISTEN) take."""
    return with_database(settings.service_database_url(service), "postgresql")


def say(message: str) -> None:
    """A line for the person watching `make run`: plain text on stderr, not a log record.
    The dev runner shows each service's last such line while it waits for it."""
    print(message, file=sys.stderr, flush=True)


def run_service(
    spec: ServiceSpec,
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int,
    provision: bool = False,
) -> None:
    """The whole service in one process (development): its API, relay, consumers and jobs as
    tasks of one event loop. With `provision`, first create and migrate its database and create
    the topics it uses. The API's /metrics shows every part's metrics (one registry)."""
    import uvicorn

    from shared.app import create_app
    from shared.db import create_engine, session_factory
    from shared.http_limits import uvicorn_options

    configure_logging(spec.name, settings.log_level, settings.log_format)
    if not settings.metrics_on_api_port:
        serve_metrics(None, settings)

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # This process's own handler sets `stop`, which stops the server with the rest.
            yield

    async def _main(stop: asyncio.Event) -> None:
        if provision:
            await _provision(spec, settings)
        say(f"{spec.name}: starting the API, relay, consumers and jobs")
        # One pool for the API, consumers and jobs: fewer idle PostgreSQL backends.
        engine = create_engine(settings, spec.name)
        sessions = session_factory(engine)
        server = _Server(
            uvicorn.Config(
                create_app(spec, settings, engine),
                host=host,
                port=port,
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=10,
                **uvicorn_options(settings),
            )
        )
        tasks = [
            asyncio.create_task(part) for part in _background_parts(spec, settings, sessions, stop)
        ]
        api = asyncio.create_task(server.serve())
        try:
            # The API ending on its own (a port already taken) ends the process: the dev
            # runner reports it and starts it again.
            done, _ = await asyncio.wait(
                [api, asyncio.create_task(stop.wait()), *tasks],
                return_when=asyncio.FIRST_COMPLETED,
            )
            for task in done:
                if task is not api and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            if api in done and not stop.is_set():
                raise SystemExit(f"{spec.name}: the API stopped (is port {port} taken?)")
        finally:
            stop.set()
            server.should_exit = True
            await asyncio.gather(api, *tasks, return_exceptions=True)
            await engine.dispose()

    run_until_signalled(_main)


# run_service's steps besides its API, on their own so that it reads as start, wait, stop.


async def _provision(spec: ServiceSpec, settings: Settings) -> None:
    """Create and migrate the service's database, and create its topics (`--provision`)."""
    from shared.provision import prepare_databases, prepare_topics

    say(f"{spec.name}: creating its database if missing and running migrations")
    await prepare_databases(settings, [spec])
    say(f"{spec.name}: creating its topics")
    await prepare_topics(settings, [spec])


def _background_parts(
    spec: ServiceSpec,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
) -> list[Coroutine[Any, Any, None]]:
    """The service's parts other than its API, each to run as a task until `stop` is set:
    its consumers, then its relay and its jobs if it has any."""
    from shared.jobs import run_periodic
    from shared.outbox.relay import OutboxRelay

    parts = [consumer.runner(settings, sessions).run(stop) for consumer in spec.consumers]
    if spec.publishes:  # the console publishes nothing: no relay idling beside it
        parts.append(OutboxRelay(settings, spec.name).run(stop))
    if spec.jobs:
        parts.append(
            run_periodic(spec.jobs, settings, sessions, stop, dsn=_dsn(settings, spec.name))
        )
    return parts
