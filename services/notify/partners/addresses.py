"""Where webhooks may go: URLs the sending client can parse, and only public addresses unless
private ones are allowed (SSRF)."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from shared.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64's well-known prefix: the last 32 bits are an IPv4 address a NAT64 gateway reaches.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def blocked_address(address: IPAddress) -> bool:
    """Whether webhooks may not go to `address`: anything but a public unicast address, so not
    private networks, loopback, link-local (cloud metadata at 169.254.169.254), shared (CGNAT),
    multicast, reserved or unspecified ones, nor an IPv4 one of those inside an IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return blocked_address(address.ipv4_mapped)
        embedded = address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and blocked_address(embedded):
            return True
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


def address_literal(host: str) -> IPAddress | None:
    """The address a host names by itself, in any form a resolver takes: `10.0.0.1`, `::1`, and
    the IPv4 shorthands `127.1`, `2130706433` or `0x7f.1`; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def host_refusal(host: str) -> str | None:
    """Why webhooks may not go to `host` as written, None if nothing is known against it (a
    name is checked again, resolved, each time a webhook is sent)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return f"{host} is the sending machine itself"
    address = address_literal(name)
    if address is not None and blocked_address(address):
        return f"{host} is a private, loopback, link-local or reserved address"
    return None


# A host name as resolvers take it once the HTTP client has IDNA-encoded it: dot-separated
# labels of letters, digits, hyphens (and underscores, which some DNS names carry).
_HOST_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?$")


@dataclass(frozen=True)
class WebhookTarget:
    """A webhook URL as the sending client (httpx) reads it."""

    url: httpx.URL
    scheme: str
    host: str  # IDNA-encoded, lower case, an IPv6 address without brackets
    port: int


def webhook_target(url: str) -> WebhookTarget:
    """The URL parsed by the parser the webhook client sends with, so that what is accepted
    when subscribing is what can be sent; `ValueError` saying why it cannot be."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
        port = parsed.port
    except (httpx.InvalidURL, ValueError) as exc:  # IDNA errors are ValueErrors too
        raise ValueError(f"is not a URL the webhook client can send to ({exc})") from exc
    if parsed.scheme not in ("http", "https"):
        raise ValueError("must be an http(s) URL")
    if not host:
        raise ValueError("has no host")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise ValueError(f"has no valid IPv6 address ({exc})") from exc
    elif len(host) > 253 or not _HOST_NAME.match(host):
        raise ValueError(f"has a host name no resolver takes: {host[:100]}")
    if port is not None and not 1 <= port <= 65535:
        raise ValueError("has a port outside 1-65535")
    default = 443 if parsed.scheme == "https" else 80
    return WebhookTarget(parsed, parsed.scheme, host, port or default)


def webhook_url_problem(url: str, *, https_only: bool, private_allowed: bool) -> str | None:
    """Why a partner may not subscribe this webhook URL, or None: one the client cannot parse
    or send to, plain http where `https_only`, or (unless `private_allowed`) a host that is
    itself a private, loopback or link-local address."""
    try:
        target = webhook_target(url)
    except ValueError as exc:
        return str(exc)
    if https_only and target.scheme != "https":
        return "must be https"
    if not private_allowed and (refusal := host_refusal(target.host)):
        return f"must reach a public address: {refusal}"
    return None


def private_addresses_allowed(settings: Settings) -> bool:
    """Whether webhooks may go into private networks: as set, else outside production only."""
    allowed = settings.partner_webhook_allow_private_addresses
    return settings.env != "production" if allowed is None else allowed
