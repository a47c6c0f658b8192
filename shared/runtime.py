"""Running a service's relay and consumers as long-lived processes with clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from prometheus_client import start_http_server

from shared.db import create_engine, session_factory
from shared.jobs import run_periodic
from shared.observability import configure_logging
from shared.outbox.relay import OutboxRelay
from shared.service import ConsumerSpec, ServiceSpec
from shared.settings import Settings

log = logging.getLogger(__name__)


def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `main(stop)`; SIGINT or SIGTERM sets `stop` so loops finish their current step."""

    async def _wrapper() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(_wrapper())


def serve_metrics(port: int | None, settings: Settings) -> None:
    """Serve /metrics: on loopback for `--metrics-port` (the dev runner), on every interface for
    LABOURX_METRICS_PORT (containers, scraped by a Prometheus elsewhere)."""
    if port:
        start_http_server(port, addr="127.0.0.1")
    elif settings.metrics_port:
        start_http_server(settings.metrics_port, addr="0.0.0.0")


def run_relay(spec: ServiceSpec, settings: Settings, metrics_port: int | None = None) -> None:
    configure_logging(f"{spec.name}-relay", settings.log_level)
    serve_metrics(metrics_port, settings)
    relay = OutboxRelay(settings, spec.name, spec.publishes)
    run_until_signalled(relay.run)


def consumer_for(spec: ServiceSpec, group: str) -> ConsumerSpec:
    for consumer in spec.consumers:
        if consumer.group == group:
            return consumer
    raise KeyError(f"{spec.name} has no consumer group {group!r}")


def run_consumer(
    spec: ServiceSpec, group: str, settings: Settings, metrics_port: int | None = None
) -> None:
    configure_logging(f"{spec.name}-consumer", settings.log_level)
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
    configure_logging(f"{spec.name}-jobs", settings.log_level)
    serve_metrics(metrics_port, settings)

    async def _main(stop: asyncio.Event) -> None:
        engine = create_engine(settings, spec.name)
        try:
            await run_periodic(spec.jobs, settings, session_factory(engine), stop)
        finally:
            await engine.dispose()

    run_until_signalled(_main)
