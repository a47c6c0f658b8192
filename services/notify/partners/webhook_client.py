"""How one webhook is POSTed: to a vetted address, reading no more of the answer than needed."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from services.notify.partners.addresses import (
    IPAddress,
    blocked_address,
    private_addresses_allowed,
    webhook_target,
)

if TYPE_CHECKING:
    from shared.settings import Settings


class Unsendable(Exception):
    """A webhook that is not sent: its host is, or resolves to, an address webhooks may not go
    to (`blocked_address`), or does not resolve (`dns_error`)."""


@dataclass(frozen=True)
class Answer:
    """What a partner's server answered: its status and the start of its body."""

    status_code: int
    text: str


class WebhookClient:
    """POSTs webhooks for one pass. With private addresses allowed, one httpx client does it all;
    otherwise each host is resolved once per pass, every address it has checked, and a client of
    its own posts to the vetted address, with the name kept in `Host` and in TLS (SNI and the
    certificate check). One client per host, because a pool keyed by address would reuse a TLS
    connection made for one partner's host for another's on the same address (a shared CDN).

    Only the first `ANSWER_BYTES` of an answer are read (for the attempt's error), undecoded:
    a partner's server cannot make a pass read an endless or a compressed-to-explode body."""

    def __init__(self, settings: Settings) -> None:
        self._vet = not private_addresses_allowed(settings)
        self._timeout_s = settings.partner_webhook_timeout_s
        self._timeout = httpx.Timeout(self._timeout_s)
        self._limits = httpx.Limits(max_connections=settings.partner_webhook_concurrency)
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._routes: dict[tuple[str, int], asyncio.Task[IPAddress]] = {}

    def _client(self, host: str) -> httpx.AsyncClient:
        if host not in self._clients:
            # Redirects are not followed: a partner's URL is where the signed body goes.
            self._clients[host] = httpx.AsyncClient(
                timeout=self._timeout, limits=self._limits, follow_redirects=False
            )
        return self._clients[host]

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        # Parsed as when subscribing: a URL stored before that check (or changed by hand)
        # raises here, for this delivery only.
        target = webhook_target(url)
        if not self._vet:
            return await _send(self._client(""), target.url, body, headers, {})
        key = (target.host, target.port)
        if key not in self._routes:
            self._routes[key] = asyncio.ensure_future(
                vetted_address(target.host, target.port, self._timeout_s)
            )
        # Shielded: one sender given up on must not cancel the lookup others wait for.
        address = await asyncio.shield(self._routes[key])
        return await _send(
            self._client(target.host),
            target.url.copy_with(host=str(address)),
            body,
            {**headers, "host": target.url.netloc.decode("ascii")},
            {"sni_hostname": target.host} if target.scheme == "https" else {},
        )

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        for route in self._routes.values():
            if not route.done():
                route.cancel()


# How much of an answer is read: enough for the error a partner's server sends.
ANSWER_BYTES = 2048


async def _send(
    client: httpx.AsyncClient,
    url: httpx.URL,
    body: bytes,
    headers: dict[str, str],
    extensions: dict[str, str],
) -> Answer:
    request = client.build_request(
        "POST", url, content=body, headers=headers, extensions=extensions
    )
    response = await client.send(request, stream=True)
    try:
        start = b""
        async for chunk in response.aiter_raw():
            start += chunk
            if len(start) >= ANSWER_BYTES:
                break  # the rest is never read; closing drops the connection
        return Answer(response.status_code, start[:ANSWER_BYTES].decode("utf-8", "replace"))
    finally:
        await response.aclose()


async def vetted_address(host: str, port: int, timeout_s: float) -> IPAddress:
    """An address of `host` to send a webhook to, once every address it resolves to (asyncio's
    getaddrinfo) is one webhooks may go to; `Unsendable` if any is not, or none is found.
    Addresses written as the host (in any form) resolve to themselves and are checked alike."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout_s):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise Unsendable(f"dns_error: {host} did not resolve within {timeout_s} s") from exc
    except OSError as exc:
        raise Unsendable(f"dns_error: {host}: {exc}") from exc
    addresses = [ipaddress.ip_address(str(info[4][0])) for info in found]
    if not addresses:
        raise Unsendable(f"dns_error: {host} has no address")
    for address in addresses:
        if blocked_address(address):
            raise Unsendable(
                f"blocked_address: {host} resolves to {address}, a private, loopback,"
                " link-local or reserved address"
            )
    return addresses[0]
