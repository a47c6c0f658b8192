"""What a request may cost before anything parses it: header size, body size per route class,
and the bearer token checked before a body is read (docs/security.md, "Limits").

FastAPI reads and parses a route's body before it resolves the route's dependencies, the token
check among them: a 60 MB JSON body sent without a token was read whole, then parsed, before the
401. Here the body is guarded where it is read, on its first `receive`: by then the router has
chosen the route (the scope names it), so its limit and whether it needs a token are known, and
nothing of the body has been taken from the server yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.exceptions import HTTPException

from shared.auth import reads_bearer, verified_principal
from shared.problems import Problem, Unauthorized, problem_response

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import Message, Receive, Scope

    from shared.settings import Settings

# A route that takes a file rather than a JSON document: merged into its `openapi_extra`, where
# the factory reads it (and the OpenAPI document shows it). Its body may be up to
# LABOURX_MAX_UPLOAD_BYTES instead of LABOURX_MAX_BODY_BYTES.
BODY_CLASS = "x-labourx-body"
UPLOAD: dict[str, Any] = {BODY_CLASS: "upload"}

# h11 keeps a request's head in memory until it is whole; past this many times the app's
# limit it drops the connection (a 400) instead of buffering on. Up to it, the head reaches the
# app, which answers an oversized one with a 431 problem.
PARSER_HEAD_FACTOR = 4


class ContentTooLarge(Problem):
    status, slug, title = 413, "too-large", "Content too large"


class HeadersTooLarge(Problem):
    status, slug, title = 431, "headers-too-large", "Request header fields too large"


# Problem's `headers` is a dict, HTTPException's a Mapping or None: a dict is both.
class RefusedBeforeBody(Problem, HTTPException):  # type: ignore[misc]
    """A request refused as its body was about to be read: a Problem (the one handler answers
    it) that is also an HTTPException, the only kind FastAPI lets through when it is raised
    while a body is read (it turns any other into a 400)."""

    def __init__(self, problem: Problem) -> None:
        # Not Problem.__init__: its super() is HTTPException's here.
        HTTPException.__init__(self, problem.status, problem.detail, dict(problem.headers))
        self.status, self.slug, self.title = problem.status, problem.slug, problem.title
        self.extensions = problem.extensions


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Server options every labourx API runs with (`labourx api`, `labourx run`): the h11
    parser, whose buffer for a request's head is bounded (httptools, uvicorn's default when
    installed, buffers a head of any size)."""
    return {
        "http": "h11",
        "h11_max_incomplete_event_size": settings.max_header_bytes * PARSER_HEAD_FACTOR,
    }


@dataclass(frozen=True)
class _RouteRule:
    limit: int
    needs_bearer: bool


def _needs_bearer(route: APIRoute) -> bool:
    """Whether the route's dependencies include the bearer token check."""
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if reads_bearer(dependant.call):
            return True
        pending.extend(dependant.dependencies)
    return False


class HttpLimits:
    """Refuses an oversized head (431) at once and guards each request body as it is read:
    the route's token first (401), then its declared length, then the bytes as they arrive
    (413 once over, reading no further). Not a middleware of its own: the request context's
    (shared.observability) asks it, one layer around the app instead of two."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._bearer = HTTPBearer(auto_error=False)
        self._rules: dict[int, _RouteRule] = {}

    def refusal(self, scope: Scope) -> Response | None:
        """The 431 answer to a request whose line and headers are over the limit, else None."""
        head = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        head += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if head <= self.settings.max_header_bytes:
            return None
        problem = HeadersTooLarge(
            f"the request line and headers are over {self.settings.max_header_bytes} bytes"
        )
        return problem_response(
            problem.status, problem.slug, problem.title, problem.detail, scope["path"]
        )

    def guarded(self, scope: Scope, receive: Receive) -> Receive:
        """The request's `receive`, guarded if the request has a body."""
        return _GuardedBody(self, scope, receive).receive if _has_body(scope) else receive

    def rule(self, route: Any) -> _RouteRule:
        """The limit of the route the router chose (the default one for none), worked out once."""
        key = id(route)
        if (rule := self._rules.get(key)) is None:
            upload = isinstance(route, APIRoute) and (route.openapi_extra or {}).get(BODY_CLASS)
            rule = _RouteRule(
                limit=self.settings.max_upload_bytes if upload else self.settings.max_body_bytes,
                needs_bearer=isinstance(route, APIRoute) and _needs_bearer(route),
            )
            self._rules[key] = rule
        return rule

    async def admit(self, scope: Scope) -> int:
        """Check what can be checked before the first byte of the body is read; the limit."""
        rule = self.rule(scope.get("route"))
        if rule.needs_bearer:
            # The same decision the route's own dependency makes next (the verified token is
            # kept, so it is not verified twice).
            credentials = await self._bearer(Request(scope))
            try:
                if credentials is None:
                    raise Unauthorized("a bearer token is required")
                await verified_principal(self.settings, credentials.credentials)
            except Problem as refused:
                raise RefusedBeforeBody(refused) from None
        length = _content_length(scope)
        if length is not None and length > rule.limit:
            raise RefusedBeforeBody(_too_large(rule.limit))
        return rule.limit


class _GuardedBody:
    """A request's `receive`, admitted on its first call and counted on every call."""

    __slots__ = ("limit", "limits", "next", "received", "scope")

    def __init__(self, limits: HttpLimits, scope: Scope, receive: Receive) -> None:
        self.limits, self.scope, self.next = limits, scope, receive
        self.limit: int | None = None
        self.received = 0

    async def receive(self) -> Message:
        if self.limit is None:
            self.limit = await self.limits.admit(self.scope)
        message = await self.next()
        if message["type"] == "http.request":
            # A body sent in chunks declares no length: counted as it comes.
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise RefusedBeforeBody(_too_large(self.limit))
        return message


def _too_large(limit: int) -> ContentTooLarge:
    return ContentTooLarge(f"the request body is over the {limit} bytes this route takes")


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # The HTTP parser has refused a malformed one already.
            return int(value)
    return None
