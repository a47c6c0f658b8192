"""Production tokens: RS256 signed by an OIDC provider, keys fetched from its JWKS URL."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.auth import ProviderUnreachable, Role, decode_token, mint_token, verified_principal
from shared.problems import Unauthorized
from shared.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@contextmanager
def _provider(answer_when: threading.Event, asked: threading.Event) -> Iterator[int]:
    """A real HTTP server on loopback publishing the provider's public key, as Keycloak does;
    it notes each request in `asked` and answers once `answer_when` is set. Its port."""
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.set()
            answer_when.wait()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        answer_when.set()
        server.shutdown()


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """A provider that answers at once."""
    at_once = threading.Event()
    at_once.set()
    with _provider(at_once, threading.Event()) as port:
        yield f"http://127.0.0.1:{port}/realms/labourx/protocol/openid-connect/certs"


def _token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    now = int(time.time())
    base = {
        "sub": "u-1",
        "iss": "https://sso.example.la/realms/labourx",
        "aud": "labourx",
        "iat": now,
        "exp": now + 300,
    }
    return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def slow_jwks() -> Iterator[tuple[str, threading.Event, threading.Event]]:
    """A provider that takes the request and answers only when the test lets it."""
    asked, release = threading.Event(), threading.Event()
    with _provider(release, asked) as port:
        yield f"http://127.0.0.1:{port}/slow/certs", asked, release


def _settings(jwks_url: str) -> Settings:
    return Settings(jwt_jwks_url=jwks_url, jwt_issuer="https://sso.example.la/realms/labourx")


def test_a_token_signed_by_the_provider_is_accepted_with_its_keycloak_roles(jwks_url: str) -> None:
    token = _token(
        KEY,
        realm_access={"roles": ["mrc_staff", "offline_access"]},
        office="MRC-CH",
        province="LA-CH",
    )

    principal = decode_token(_settings(jwks_url), token)

    assert principal.roles == {Role.MRC_STAFF}
    assert principal.office == "MRC-CH"
    assert principal.can_see_province("LA-CH")


def test_a_token_signed_by_another_key_is_refused(jwks_url: str) -> None:
    with pytest.raises(Unauthorized):
        decode_token(_settings(jwks_url), _token(OTHER_KEY, roles=["admin"]))


def test_an_hs256_token_is_refused_when_a_jwks_url_is_set(jwks_url: str) -> None:
    forged = jwt.encode(
        {
            "sub": "x",
            "aud": "labourx",
            "iss": "https://sso.example.la/realms/labourx",
            "exp": int(time.time()) + 60,
            "roles": ["admin"],
        },
        "guessable-secret-guessable-secret",
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized):
        decode_token(_settings(jwks_url), forged)


def test_an_expired_token_is_refused(jwks_url: str) -> None:
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(_settings(jwks_url), _token(KEY, exp=int(time.time()) - 10))


async def test_a_slow_provider_does_not_stall_the_other_requests_of_the_process(
    slow_jwks: tuple[str, threading.Event, threading.Event],
) -> None:
    """PyJWKClient fetches keys with blocking urllib: on the event loop, one officer's first
    request would stop every other request until the provider answered or timed out."""
    url, asked, release = slow_jwks
    verifying = asyncio.create_task(
        verified_principal(_settings(url), _token(KEY, roles=["admin"]))
    )
    while not asked.is_set():  # the provider holds the request ...
        assert not verifying.done(), verifying.exception()
        await asyncio.to_thread(asked.wait, 0.05)
    # ... and meanwhile the process goes on verifying other tokens.
    hs = Settings()
    other = await verified_principal(
        hs, mint_token(hs, subject="u-2", roles=["esc_staff"], office="ESC-VT")
    )
    assert other.roles == {Role.ESC_STAFF}
    assert not verifying.done()
    release.set()
    assert (await verifying).roles == {Role.ADMIN}


async def test_a_provider_that_does_not_answer_is_a_503_to_retry_not_a_refused_token() -> None:
    """Refusing the token (401) would sign every officer out of the console while the provider
    is down; the request is answered 503 with Retry-After instead."""
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/down/certs"
    with pytest.raises(ProviderUnreachable) as raised:
        await verified_principal(_settings(url), _token(KEY, roles=["admin"]))
    assert raised.value.status == 503
    assert raised.value.headers["Retry-After"]
