"""JSON logs carrying request and correlation ids, Prometheus metrics, and the HTTP middleware."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram
from pythonjsonlogger.json import JsonFormatter

from shared.context import (
    causation_id_var,
    correlation_id_var,
    current_causation_id,
    current_correlation_id,
    current_request_id,
    request_id_var,
)
from shared.dberrors import RedactDatabaseErrors

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "labourx_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "labourx_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PUBLISHED = Counter("labourx_outbox_published_total", "Outbox rows published", ["service"])
OUTBOX_PUBLISH_ERRORS = Counter(
    "labourx_outbox_publish_errors_total", "Outbox publish failures", ["service"]
)
OUTBOX_BACKLOG = Gauge("labourx_outbox_backlog", "Unsent outbox rows", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "labourx_outbox_oldest_unsent_age_seconds", "Age of the oldest unsent outbox row", ["service"]
)
RELAY_LEADER = Gauge(
    "labourx_relay_leader", "1 while this relay holds the outbox lock", ["service"]
)
EVENTS_CONSUMED = Counter(
    "labourx_events_consumed_total", "Events handled", ["group", "type", "outcome"]
)
HANDLER_SECONDS = Histogram(
    "labourx_handler_duration_seconds", "Event handler time", ["group", "type"]
)
DEAD_LETTERS = Counter(
    "labourx_dead_letters_total", "Records sent to a dead-letter topic", ["group"]
)
CONSUMER_LAG = Gauge(
    "labourx_consumer_lag", "Records behind the log end", ["group", "topic", "partition"]
)
CONSUMER_RESTARTS = Counter(
    "labourx_consumer_restarts_total",
    "Consumer restarts (stall, commit failure)",
    ["group", "reason"],
)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        record.correlation_id = current_correlation_id()
        record.causation_id = current_causation_id()
        return True


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Log lines on stderr, each with the service and the ambient ids: JSON for machines to
    collect, or `text` for a person reading a terminal (the dev runner's default)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "text":
        handler.setFormatter(
            logging.Formatter(
                f"%(asctime)s %(levelname)-7s {service}: %(message)s", datefmt="%H:%M:%S"
            )
        )
        # At a terminal, each migration's and server start's INFO lines bury what matters.
        for chatty in ("alembic", "uvicorn.error"):
            logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    else:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": service},
            )
        )
    handler.addFilter(_ContextFilter())
    # A database error's text quotes the statement's values and the rows it touched.
    handler.addFilter(RedactDatabaseErrors())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("uvicorn.access").disabled = True


# Client-chosen ids go into logs, audit rows and response headers: short, plain ones only.
_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _safe_id(value: str | None) -> str | None:
    return value if value is not None and _ID.fullmatch(value) else None


class RequestContextMiddleware:
    """Assigns request/correlation ids and records HTTP metrics (pure ASGI: cheap per request).
    Outermost (shared/app.py): the ids are set while anything else runs, the 500 problem for
    an unexpected error included, so that problem and its log line carry the request id."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = _safe_id(headers.get("x-request-id")) or uuid.uuid4().hex
        correlation_id = _safe_id(headers.get("x-correlation-id")) or request_id
        tokens = (
            request_id_var.set(request_id),
            correlation_id_var.set(correlation_id),
            causation_id_var.set(None),
        )
        status = 500
        answered = False
        started = time.perf_counter()

        async def send_with_ids(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = [
                    (b"x-request-id", request_id.encode()),
                    (b"x-correlation-id", correlation_id.encode()),
                ]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        except Exception:
            # Starlette's error middleware answers an unexpected error with the 500 problem
            # (whose handler logs it, with this request's id) and raises it again for the
            # server to log: once is enough. One that came after the answer began goes on up.
            if not (answered and status == 500):
                raise
        finally:
            route = _route_template(scope)
            HTTP_REQUESTS.labels(self.service, scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], route).observe(
                time.perf_counter() - started
            )
            request_id_var.reset(tokens[0])
            correlation_id_var.reset(tokens[1])
            causation_id_var.reset(tokens[2])


def _route_template(scope: Scope) -> str:
    # The template (not the raw path) keeps label cardinality bounded.
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"
