"""How `labourx seed` talks to the APIs: each request retried with the same Idempotency-Key
while the service says "try again" (waiting what its Retry-After asks), the answers it reads,
and the error that stops the seed."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterable

# A dropped connection or an answer of "try again" (a gateway error, a service whose database
# is down or restarting) is retried with the same key, for up to this long, waiting what the
# service's Retry-After asks (at most RETRY_AFTER_CAP_S) or backing off to at most 5 s.
RETRY_FOR_S = 120.0
RETRY_AFTER_CAP_S = 30.0
RETRIED_STATUSES = frozenset({502, 503, 504})
TIMEOUT_S = 60.0


class SeedError(Exception):
    """The seed cannot go on: an API is unreachable or answered what it should not."""

    done: list[str] = []  # the summary of what the run did before it stopped


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    fresh: bool  # written by this run, not the replay of an earlier run's answer

    @property
    def ok(self) -> bool:
        return self.status < 300

    @property
    def problem(self) -> str | None:
        """The problem type's last segment (`probable-duplicate`) of an error answer."""
        if self.ok or not isinstance(self.body, dict):
            return None
        return str(self.body.get("type", "")).rsplit("/", 1)[-1]


def _json(value: Any) -> Any:
    """UUIDs, dates and decimals as the API reads them."""
    return json.loads(json.dumps(value, default=str))


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def explain(method: str, url: str, response: httpx.Response) -> str:
    body = _body(response)
    shown = json.dumps(body, indent=2, ensure_ascii=False) if isinstance(body, dict) else body
    hint = (
        "\n(the seed signs its tokens with LABOURX_JWT_SECRET, which must be the APIs' secret)"
        if response.status_code == 401
        else ""
    )
    return f"{method} {url} answered {response.status_code}:\n{shown}{hint}"


class SeedApi:
    """The seed's requests through its client: retried while the service says "try again",
    POSTs with an Idempotency-Key, lists read page by page."""

    client: httpx.AsyncClient

    async def _send(
        self, method: str, url: str, headers: dict[str, str], **kwargs: Any
    ) -> tuple[httpx.Response, int]:
        """The response, and how many times the request was retried to get it."""
        deadline = time.monotonic() + RETRY_FOR_S
        attempt = 0
        while True:
            try:
                response = await self.client.request(method, url, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                if time.monotonic() >= deadline:
                    raise SeedError(unreachable(url, exc)) from exc
                wait = _backoff(attempt)
            else:
                if response.status_code not in RETRIED_STATUSES or time.monotonic() >= deadline:
                    return response, attempt
                wait = _retry_after(response) or _backoff(attempt)
            await asyncio.sleep(max(0.0, min(wait, deadline - time.monotonic())))
            attempt += 1

    async def post(
        self,
        url: str,
        body: dict[str, Any],
        headers: dict[str, str],
        key: str,
        allowed: Iterable[str] = (),
    ) -> Answer:
        """POST with an Idempotency-Key. Error answers other than the `allowed` problem types
        stop the seed; so does none, except a key an earlier run used for other terms."""
        response, retries = await self._send(
            "POST", url, headers | {"Idempotency-Key": key}, json=_json(body)
        )
        # A replay after a retry of this run answers this run's own write.
        replayed = response.headers.get("Idempotent-Replayed") == "true" and not retries
        answer = Answer(response.status_code, _body(response), fresh=not replayed)
        if answer.ok or answer.problem in {*allowed, "idempotency-key-reused"}:
            return answer
        raise SeedError(explain("POST", url, response))

    async def pages(self, url: str, headers: dict[str, str], **filters: str) -> list[Any]:
        """Every item of a cursor-paged list."""
        items: list[Any] = []
        params = {**filters, "limit": "200"}
        while True:
            response, _ = await self._send("GET", url, headers, params=params)
            if not response.is_success:
                raise SeedError(explain("GET", url, response))
            page = response.json()
            items += page["items"]
            if not page.get("next_cursor"):
                return items
            params["cursor"] = page["next_cursor"]


def unreachable(url: str, exc: Exception) -> str:
    return (
        f"cannot reach {url} ({type(exc).__name__}: {exc}); is the system running "
        "(`make run`), and are --registry-url and --matching-url right?"
    )


def _backoff(attempt: int) -> float:
    return float(min(0.2 * 2**attempt, 5.0))


def _retry_after(response: httpx.Response) -> float | None:
    """The seconds a `Retry-After` of whole seconds asks for (capped), or None."""
    value = response.headers.get("Retry-After", "")
    return min(float(value), RETRY_AFTER_CAP_S) if value.isdigit() else None
