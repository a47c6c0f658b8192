"""Calls whose body is not JSON: a CSV file sent to the registry, a PDF streamed back from it.

Same headers as every other call (`Api`: the officer's token and language, the page's
correlation id), same errors (`ApiError` and its kinds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from services.console.apis.errors import ApiError, Unavailable, from_response
from shared.context import current_correlation_id, current_request_id

if TYPE_CHECKING:
    from services.console.apis.client import Api, Service


def _headers(api: Api, extra: dict[str, str]) -> dict[str, str]:
    sent = {**api.headers, **extra}
    if request_id := current_request_id():
        sent["X-Correlation-ID"] = current_correlation_id() or request_id
    return sent


def _problem(service: str, status: int, content: bytes) -> ApiError:
    try:
        body = httpx.Response(status, content=content).json()
    except ValueError:
        body = None
    problem = body if isinstance(body, dict) else {"detail": content[:200].decode(errors="replace")}
    return from_response(service, status, problem)


async def send_file(
    api: Api,
    service: Service,
    path: str,
    content: bytes,
    media_type: str,
    *,
    params: dict[str, str] | None = None,
    idempotency_key: str,
) -> Any:
    """POST a file as the body; the decoded JSON answer, or an ApiError."""
    headers = _headers(api, {"Content-Type": media_type, "Idempotency-Key": idempotency_key})
    try:
        response = await api.upstreams.clients[service].post(
            path, content=content, params=params, headers=headers
        )
    except httpx.TransportError as exc:
        raise Unavailable(service, 503, {"detail": type(exc).__name__}) from exc
    if not response.is_success:
        raise _problem(service, response.status_code, response.content)
    return response.json()


async def stream(
    api: Api, service: Service, path: str, *, accept: str, download_name: str | None = None
) -> StreamingResponse:
    """Pass a file the service answers on to the browser as it arrives, never held whole."""
    client = api.upstreams.clients[service]
    request = client.build_request("GET", path, headers=_headers(api, {"Accept": accept}))
    try:
        response = await client.send(request, stream=True)
    except httpx.TransportError as exc:
        raise Unavailable(service, 503, {"detail": type(exc).__name__}) from exc
    if not response.is_success:
        content = await response.aread()
        await response.aclose()
        raise _problem(service, response.status_code, content)
    headers = {}
    if disposition := response.headers.get("content-disposition"):
        headers["Content-Disposition"] = disposition
    if download_name:
        headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
    return StreamingResponse(
        response.aiter_bytes(),  # decoded: the browser gets it as sent, not as it travelled
        status_code=200,
        media_type=response.headers.get("content-type", accept),
        headers=headers,
        background=BackgroundTask(response.aclose),
    )
