"""What every answer carries and what production does not serve (issue 16, point 10;
shared/http_hygiene.py, docs/security.md "Response hygiene"): against a real `labourx api`
process started with production settings, and over every route of every service.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import psutil
import pytest
from fastapi.routing import APIRoute

from labourx.catalog import ALL, SERVICES
from shared.app import create_app
from shared.auth import mint_token
from shared.http_hygiene import API_CSP, HSTS
from shared.infra import free_port
from shared.problems import PROBLEM_JSON
from shared.settings import Settings
from tests.support import REPO, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from fastapi import FastAPI

ANY_ID = "00000000-0000-4000-8000-000000000000"
# Nothing listens there: a route that needs the database fails, as a database outage would.
NO_DATABASE = "postgresql://labourx@127.0.0.1:1/postgres"
# A console (and its sign-in) configured as production requires; nothing is asked of them.
CONSOLE_SIGN_IN = {
    "LABOURX_CONSOLE_OIDC_ISSUER": "https://id.example.la/realms/labourx",
    "LABOURX_CONSOLE_OIDC_CLIENT_ID": "labourx-console",
    "LABOURX_CONSOLE_PUBLIC_URL": "https://console.example.la",
}


def production_env(**overrides: str) -> dict[str, str]:
    """LABOURX_* settings a production process starts with: every key its own and strong."""
    env = {
        "LABOURX_ENV": "production",
        "LABOURX_DATABASE_URL": NO_DATABASE,
        "LABOURX_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "LABOURX_PUBLIC_BASE_URL": "https://labourx.example.la/predeparture",
        **CONSOLE_SIGN_IN,
    }
    for name in (
        "JWT_SECRET",
        "CERTIFICATE_KEY",
        "PARTNER_PSEUDONYM_KEY",
        "PARTNER_WEBHOOK_KEY",
        "CONSOLE_OIDC_CLIENT_SECRET",
        "SERVICE_TOKEN",
    ):
        env[f"LABOURX_{name}"] = secrets.token_hex(32)
    env.update(overrides)
    return env


def production_settings(**overrides: str) -> Settings:
    env = production_env(**overrides)
    return Settings.model_validate({k.removeprefix("LABOURX_").lower(): v for k, v in env.items()})


@dataclass(frozen=True)
class ProductionApi:
    url: str
    metrics_url: str
    process: subprocess.Popen[bytes]
    log: Path
    settings: Settings


@pytest.fixture(scope="module")
def production_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionApi]:
    """`labourx api registry` with production settings and LABOURX_METRICS_PORT, as deploy/k8s
    runs it; its database unreachable, so a route that needs it fails with a 500."""
    port, metrics_port = free_port(), free_port()
    overrides = {"LABOURX_METRICS_PORT": str(metrics_port), "LABOURX_LOG_LEVEL": "INFO"}
    env = production_env(**overrides)
    log = tmp_path_factory.mktemp("hygiene") / "registry-api.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "labourx.cli", "api", "registry", "--port", str(port)],
        cwd=REPO,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("LABOURX_")}, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the API exited: {log.read_text()[-2000:]}"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"no API in 60 s: {log.read_text()[-2000:]}"
            time.sleep(0.2)
        settings = production_settings(**overrides, LABOURX_JWT_SECRET=env["LABOURX_JWT_SECRET"])
        yield ProductionApi(url, f"http://127.0.0.1:{metrics_port}", process, log, settings)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _hygienic(answer: httpx.Response, where: str, *, csp: str | None = API_CSP) -> None:
    headers = answer.headers
    assert headers.get("cache-control") == "no-store", where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("strict-transport-security") == HSTS, where
    assert headers.get("referrer-policy"), where
    if csp is not None:
        assert headers.get("content-security-policy") == csp, where


def _path(template: str) -> str:
    return re.sub(r"\{[^}]+\}", ANY_ID, template)


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
    ]


async def test_a_production_api_answers_every_route_with_the_hygiene_headers(
    production_api: ProductionApi,
) -> None:
    """Every operation of registry's OpenAPI document, without credentials and with a token
    (401s, 404s, 422s and the 503s of its unreachable database alike)."""
    app = create_app(SERVICES["registry"], production_api.settings)
    token = mint_token(
        production_api.settings,
        subject="hygiene",
        roles=["esc_staff"],
        office="ESC-VT",
        province="LA-VT",
    )
    statuses = set()
    async with httpx.AsyncClient(base_url=production_api.url, timeout=30) as client:
        for method, template, operation in _operations(app):
            for headers in ({}, {"Authorization": f"Bearer {token}"}):
                answer = await client.request(
                    method,
                    _path(template),
                    json={} if "requestBody" in operation else None,
                    headers=headers,
                )
                statuses.add(answer.status_code)
                _hygienic(answer, f"{method} {template}: {answer.status_code}")
        for path in ("/healthz", "/readyz", "/no-such-page"):
            _hygienic(await client.get(path), path)
    assert {401, 503} <= statuses, statuses


async def test_an_unreachable_database_answers_503_with_its_request_id_logged_once_with_it(
    production_api: ProductionApi,
) -> None:
    token = mint_token(production_api.settings, subject="hygiene", roles=["admin"], office="ESC-VT")
    async with httpx.AsyncClient(base_url=production_api.url, timeout=30) as client:
        answer = await client.get(
            f"/v1/people/{ANY_ID}", headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    request_id = answer.headers["x-request-id"]
    assert answer.json()["request_id"] == request_id
    assert "nothing was saved" in answer.json()["detail"]

    def logged() -> list[dict[str, Any]]:
        lines = production_api.log.read_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        return [r for r in records if r.get("request_id") == request_id]

    async def written() -> list[dict[str, Any]]:
        return logged()

    [record] = await wait_until(written, timeout_s=30)
    assert record["message"].startswith("database unavailable, answered 503"), record
    # Not logged a second time by the server, without the id.
    assert "Exception in ASGI application" not in production_api.log.read_text()


async def test_production_serves_no_documentation(production_api: ProductionApi) -> None:
    async with httpx.AsyncClient(base_url=production_api.url, timeout=30) as client:
        for path in ("/docs", "/openapi.json", "/docs-assets/swagger-ui-bundle.js", "/redoc"):
            answer = await client.get(path)
            assert answer.status_code == 404, path
            assert answer.headers["content-type"] == PROBLEM_JSON, path


async def test_production_serves_metrics_on_the_metrics_port_only(
    production_api: ProductionApi,
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        public = await client.get(f"{production_api.url}/metrics")
        assert public.status_code == 404
        await client.get(f"{production_api.url}/healthz")
        metrics = await client.get(f"{production_api.metrics_url}/metrics")
    assert metrics.status_code == 200
    # The API's own request metrics (one process, one registry).
    assert 'labourx_http_requests_total{method="GET",route="/healthz"' in metrics.text
    port = int(production_api.metrics_url.rsplit(":", 1)[1])
    listening = [
        conn.laddr.ip
        for conn in psutil.Process(production_api.process.pid).net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
    ]
    # Every interface: Prometheus scrapes it from another pod; the Service exposes only http.
    assert listening == ["0.0.0.0"]


# -- in development and test: the documentation, under a strict policy ---------------------------


async def test_documentation_is_served_outside_production_under_a_strict_policy(
    registry_client: httpx.AsyncClient,
) -> None:
    page = await registry_client.get("/docs")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    # The set-up script inline on the page runs by its hash; no other inline script would.
    scripts = directives["script-src"].split()
    assert scripts[0] == "'self'"
    assert len(scripts) == 2
    assert scripts[1].startswith("'sha256-")
    assert "unsafe-inline" not in policy
    assert directives["frame-ancestors"] == "'none'"
    document = await registry_client.get("/openapi.json")
    assert document.status_code == 200
    # Public and the same for everyone: the documentation may be kept by a browser.
    assert "cache-control" not in page.headers
    assert "cache-control" not in document.headers
    assert (await registry_client.get("/metrics")).status_code == 200


async def test_production_may_turn_the_documentation_on() -> None:
    app = create_app(SERVICES["registry"], production_settings(LABOURX_API_DOCS="true"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/docs")).status_code == 200
        assert (await client.get("/metrics")).status_code == 404


# -- every service, in production ----------------------------------------------------------------


@pytest.fixture(scope="module")
async def production_apps(migrated: Settings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Every service and the console in-process with production settings, on the tests'
    databases."""
    settings = production_settings(
        LABOURX_DATABASE_URL=str(migrated.database_url),
        LABOURX_DATABASE_PREFIX=migrated.database_prefix,
    )
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for name in ALL:
            app = create_app(ALL[name], settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="https://testserver")
            )
        yield clients


async def test_every_service_answers_every_route_with_the_hygiene_headers_in_production(
    production_apps: dict[str, httpx.AsyncClient],
) -> None:
    """Each API's OpenAPI document, and the console's pages (its routers: it documents none),
    which keep their own policy: the console's CSP, its static files' caching."""
    for name in SERVICES:
        client = production_apps[name]
        app = create_app(SERVICES[name], Settings())
        for method, template, operation in _operations(app):
            answer = await client.request(
                method, _path(template), json={} if "requestBody" in operation else None
            )
            _hygienic(answer, f"{name} {method} {template}: {answer.status_code}")
    console = production_apps["console"]
    pages = [
        route
        for router in ALL["console"].routers
        for route in router.routes
        if isinstance(route, APIRoute) and "GET" in (route.methods or set())
    ]
    assert len(pages) >= 10
    for route in pages:
        answer = await console.get(_path(route.path))
        where = f"console GET {route.path}: {answer.status_code}"
        assert answer.headers.get("strict-transport-security") == HSTS, where
        assert answer.headers.get("x-content-type-options") == "nosniff", where
        assert answer.headers.get("cache-control"), where
        if answer.headers.get("content-type", "").startswith("text/html"):
            _hygienic(answer, where, csp=None)
            assert "script-src 'self'" in answer.headers["content-security-policy"], where
    # A page, signed out: the sign-in page, under the console's own policy.
    sign_in = await console.get("/sign-in")
    assert sign_in.status_code == 200
    _hygienic(sign_in, "console /sign-in", csp=None)
    assert sign_in.headers["content-security-policy"] != API_CSP
    assert sign_in.headers["referrer-policy"] == "same-origin"
