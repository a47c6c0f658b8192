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

    from shared.http_hygiene import ResponseHygiene
    from shared.http_limits import HttpLimits

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
    an unexpected error included, so that problem and its log line carry the request id.

    It also applies the HTTP limits and the response hygiene (`limits`, `hygiene`): one layer
    around the app and one wrapper of `send`, where each as a middleware of its own cost a call
    and a wrapper of every message on every request. As they were, the limits answer inside the
    request's context and every answer gets the hygiene's headers, then the ids."""

    def __init__(
        self,
        app: ASGIApp,
        service: str,
        *,
        limits: HttpLimits | None = None,
        hygiene: ResponseHygiene | None = None,
    ) -> None:
        self.app = app
        self.service = service
        self.limits = limits
        self.hygiene = hygiene
        # The metrics' children by (method, route, status): labels() costs a lock and a lookup.
        self._counted: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, correlation_id = _ids(scope["headers"])
        tokens = (
            request_id_var.set(request_id),
            correlation_id_var.set(correlation_id),
            causation_id_var.set(None),
        )
        status = 500
        answered = False
        started = time.perf_counter()
        ids = [
            (b"x-request-id", request_id.encode()),
            (b"x-correlation-id", correlation_id.encode()),
        ]
        hygiene = self.hygiene
        cacheable = hygiene is not None and hygiene.stores(scope)

        async def send_with_ids(message: Message) -> None:
            nonlocal status, answered
            kind = message["type"]
            if kind == "http.response.body" and not message.get("more_body"):
                answered = True
            elif kind == "http.response.start":
                status = message["status"]
                headers = (
                    list(message.get("headers", ()))
                    if hygiene is None
                    else hygiene.add(message, cacheable=cacheable)
                )
                message["headers"] = headers + ids
            await send(message)

        try:
            refusal = self.limits.refusal(scope) if self.limits is not None else None
            if refusal is not None:
                await refusal(scope, receive, send_with_ids)
            else:
                if self.limits is not None:
                    receive = self.limits.guarded(scope, receive)
                await self.app(scope, receive, send_with_ids)
        except Exception:
            # Starlette's error middleware answers an unexpected error with the 500 problem
            # (whose handler logs it, with this request's id) and raises it again for the
            # server to log: once is enough. One that came after the answer began goes on up.
            if not (answered and status == 500):
                raise
        finally:
            self._count(scope, status, time.perf_counter() - started)
            request_id_var.reset(tokens[0])
            correlation_id_var.reset(tokens[1])
            causation_id_var.reset(tokens[2])

    def _count(self, scope: Scope, status: int, seconds: float) -> None:
        key = (scope["method"], _route_template(scope), str(status))
        if (children := self._counted.get(key)) is None:
            method, route, code = key
            children = (
                HTTP_REQUESTS.labels(self.service, method, route, code),
                HTTP_LATENCY.labels(self.service, method, route),
            )
            # Bounded as the labels are: methods the router knows, route templates, statuses.
            self._counted[key] = children
        children[0].inc()
        children[1].observe(seconds)


def _ids(headers: list[tuple[bytes, bytes]]) -> tuple[str, str]:
    """The request id (the client's `X-Request-Id` if it is a plain short one, else a new one)
    and the correlation id (the client's `X-Correlation-Id` likewise, else the request id)."""
    sent_request = sent_correlation = None
    for name, value in headers:
        # The last one sent wins, as a dict of the headers had it.
        if name == b"x-request-id":
            sent_request = value
        elif name == b"x-correlation-id":
            sent_correlation = value
    request_id = _safe_id(_text(sent_request)) or uuid.uuid4().hex
    return request_id, _safe_id(_text(sent_correlation)) or request_id


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _route_template(scope: Scope) -> str:
    # The template (not the raw path) keeps label cardinality bounded.
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"
