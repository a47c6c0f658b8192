"""One HTTP client per service, and the calls made for one signed-in officer.

The console has no data of its own: every read and write goes to a service's public API with
the officer's own bearer token, so validation, scope, idempotency and audit stay there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import httpx

from services.console.apis.errors import ApiError, Unavailable, from_response
from shared.context import current_correlation_id, current_request_id

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shared.settings import Settings

Service = Literal["registry", "matching", "predeparture", "notify"]
SERVICES: tuple[Service, ...] = ("registry", "matching", "predeparture", "notify")


def base_urls(settings: Settings) -> dict[Service, str]:
    return {
        "registry": settings.console_registry_url,
        "matching": settings.console_matching_url,
        "predeparture": settings.console_predeparture_url,
        "notify": settings.console_notify_url,
    }


class Upstreams:
    """A pooled client per service, made at start and closed at shutdown.

    `transports` routes a service's calls elsewhere (tests hand in the service's ASGI app: the
    console still speaks HTTP to it, with its real routing, validation and errors).
    """

    def __init__(
        self,
        settings: Settings,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        timeout = httpx.Timeout(
            settings.console_api_timeout_s, connect=settings.console_api_connect_timeout_s
        )
        transports = transports or {}
        self.clients: dict[Service, httpx.AsyncClient] = {
            name: httpx.AsyncClient(
                base_url=url.rstrip("/"),
                timeout=timeout,
                transport=transports.get(name),
                headers={"Accept": "application/json"},
            )
            for name, url in base_urls(settings).items()
        }

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()


class Api:
    """Calls to the services on behalf of one officer, in their language."""

    def __init__(self, upstreams: Upstreams, token: str, language: str) -> None:
        self.upstreams = upstreams
        self.headers = {"Authorization": f"Bearer {token}", "Accept-Language": language}

    async def get(
        self, service: Service, path: str, params: Mapping[str, Any] | None = None
    ) -> Any:
        return await self.call("GET", service, path, params=params)

    async def send(
        self,
        method: Literal["POST", "PUT", "PATCH", "DELETE"],
        service: Service,
        path: str,
        *,
        json: Any = None,
        idempotency_key: str | None,
        if_match: str | None = None,
    ) -> Any:
        """A write. `idempotency_key` is the one the form was given when it was rendered, so a
        double submit, a retry after a timeout or a second tab never writes twice; pass None
        only for a write the service makes idempotent by itself (a PUT of a whole roster)."""
        headers = {}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if if_match:
            headers["If-Match"] = if_match
        return await self.call(method, service, path, json=json, headers=headers)

    async def call(
        self,
        method: str,
        service: Service,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The decoded JSON body of a 2xx answer; an ApiError for anything else."""
        sent = {**self.headers, **(headers or {})}
        # The service's logs carry the console request's ids: one page, followed across.
        if request_id := current_request_id():
            sent["X-Correlation-ID"] = current_correlation_id() or request_id
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        try:
            response = await self.upstreams.clients[service].request(
                method, path, params=query, json=json, headers=sent
            )
        except httpx.TransportError as exc:  # connect error, timeout, reset
            raise Unavailable(service, 503, {"detail": type(exc).__name__}) from exc
        if response.is_success:
            return response.json() if response.content else None
        raise _error(service, response)


def _error(service: str, response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    problem = body if isinstance(body, dict) else {"detail": response.text[:200]}
    return from_response(service, response.status_code, problem)
