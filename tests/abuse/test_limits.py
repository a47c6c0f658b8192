"""What a request may cost before anything parses it (issue 16, point 1; shared/http_limits.py,
docs/security.md "Limits"): against a real `labourx api` process, and over every route of
every service that takes a body.

Nothing written is told by the abuse suite's fingerprint of every row of a service's database
(tests/abuse/conftest.py), equal before and after.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psutil
import pytest
from fastapi.routing import APIRoute

from labourx.catalog import ALL, SERVICES
from shared.app import create_app
from shared.http_limits import BODY_CLASS
from shared.infra import free_port, wait_for_port
from shared.problems import PROBLEM_JSON
from tests.abuse.conftest import changed_tables, fingerprint
from tests.support import jobseeker, spawn_cli, stop_process, unique_names

if TYPE_CHECKING:
    import subprocess
    from collections.abc import AsyncIterator, Iterator

    from shared.settings import Settings

MB = 1024 * 1024
PEOPLE = "/v1/people"
# A value for any path parameter: the router matches a path before anything reads its body.
ANY_ID = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class RunningApi:
    url: str
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def registry_api(
    migrated: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApi]:
    """`labourx api registry` as production starts it (uvicorn, its options), on the tests'
    database."""
    port = free_port()
    log = tmp_path_factory.mktemp("limits") / "registry-api.log"
    process = spawn_cli(["api", "registry", "--port", str(port)], migrated, log)
    try:
        wait_for_port("127.0.0.1", port, timeout_s=60)
        yield RunningApi(f"http://127.0.0.1:{port}", process)
    finally:
        stop_process(process)


@pytest.fixture
async def client(registry_api: RunningApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=registry_api.url, timeout=120) as client:
        yield client


def _problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = answer.json()
    return problem


def _peak_rss(pid: int) -> int:
    """The most memory the process has held since its peak was last reset (VmHWM): a
    request's peak, which its RSS afterwards does not show (freed memory goes back)."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found, status
    return int(found.group(1)) * 1024


def _reset_peak_rss(pid: int) -> None:
    # Linux: writing 5 to clear_refs sets the peak back to the current RSS.
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _padded(body: dict[str, Any], size: int) -> bytes:
    """A valid JSON document of `size` bytes: `body`, then spaces (JSON allows any amount).
    Under the limit it would be accepted as it is."""
    text = json.dumps(body).encode()
    return text + b" " * (size - len(text))


async def test_a_60_mb_body_without_a_token_is_refused_before_it_is_read(
    registry_api: RunningApi, client: httpx.AsyncClient
) -> None:
    pid = registry_api.process.pid
    # The refusal's own code runs once first: what it loads is not the body's cost.
    _problem(await client.post(PEOPLE, json=jobseeker()), 401)
    process = psutil.Process(pid)
    rss_before = process.memory_info().rss
    _reset_peak_rss(pid)
    answer = await client.post(
        PEOPLE, content=_padded(jobseeker(), 60 * MB), headers={"Content-Type": "application/json"}
    )
    problem = _problem(answer, 401)
    assert problem["detail"] == "a bearer token is required"
    grew = _peak_rss(pid) - rss_before
    # Before the fix the body was read whole and parsed: the peak grew by 170 MB.
    assert grew < 8 * MB, f"the API's peak memory grew by {grew / MB:.1f} MB for a refused body"
    # The rest of the body was drained, not left on the connection: the server answers on.
    assert (await client.get("/healthz")).status_code == 200


async def test_a_json_body_over_the_limit_is_refused_with_a_token_and_nothing_is_written(
    client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    before = await fingerprint(migrated, "registry")
    body = _padded(jobseeker(), 2 * MB)
    answer = await client.post(
        PEOPLE, content=body, headers={**auth, "Content-Type": "application/json"}
    )
    problem = _problem(answer, 413)
    assert problem["detail"] == "the request body is over the 1048576 bytes this route takes"
    assert changed_tables(before, await fingerprint(migrated, "registry")) == []
    # The same registration without the padding is taken: the size alone was refused.
    fitting = await client.post(
        PEOPLE, content=body.rstrip(), headers={**auth, "Content-Type": "application/json"}
    )
    assert fitting.status_code == 201, fitting.text


async def _chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]
        await asyncio.sleep(0)


async def test_a_chunked_body_is_counted_as_it_streams_in(
    client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    headers = {**auth, "Content-Type": "application/json"}
    before = await fingerprint(migrated, "registry")
    # No Content-Length (httpx sends an iterator chunked): refused once over, mid-stream.
    answer = await client.post(
        PEOPLE, content=_chunks(_padded(jobseeker(), 2 * MB)), headers=headers
    )
    _problem(answer, 413)
    assert changed_tables(before, await fingerprint(migrated, "registry")) == []
    under = await client.post(
        PEOPLE, content=_chunks(_padded(jobseeker(), MB // 2)), headers=headers
    )
    assert under.status_code == 201, under.text


def _csv_over(size: int, people: int) -> bytes:
    """A sheet of `people` saved with the empty formatted rows spreadsheets keep below them,
    `size` bytes in all (blank rows are skipped by the import)."""
    rows = []
    for _ in range(people):
        names = unique_names()
        rows.append(
            {
                "given_name_lo": names["given_name_lo"],
                "family_name_lo": "ພົມມະຈັນ",
                "given_name_en": names["given_name_en"],
                "family_name_en": "Phommachan",
                "sex": "female",
                "date_of_birth": names["date_of_birth"],
                "phone": names["phone"],
                "province_code": "LA-VT",
            }
        )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    text = out.getvalue().encode()
    blank = b"," * (len(rows[0]) - 1) + b"\r\n"
    return text + blank * ((size - len(text)) // len(blank))


async def test_the_csv_import_takes_a_file_over_the_json_limit_and_under_its_own(
    client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    content = _csv_over(3 * MB // 2, people=2)
    assert MB < len(content) < 5 * MB
    answer = await client.post(
        "/v1/imports", content=content, headers={**auth, "Content-Type": "text/csv"}
    )
    assert answer.status_code == 201, answer.text[:500]
    assert answer.json()["counts"] == {"created": 2}
    # Over the upload limit (LABOURX_MAX_UPLOAD_BYTES, 6 MiB) it is refused before the route.
    before = await fingerprint(migrated, "registry")
    too_big = _csv_over(7 * MB, people=1)
    answer = await client.post(
        "/v1/imports", content=too_big, headers={**auth, "Content-Type": "text/csv"}
    )
    assert _problem(answer, 413)["detail"].endswith(f"over the {6 * MB} bytes this route takes")
    assert changed_tables(before, await fingerprint(migrated, "registry")) == []


async def test_oversized_headers_get_a_4xx_and_the_server_answers_on(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await client.get(PEOPLE, headers={**auth, "X-Padding": "a" * 100_000})
    assert _problem(answer, 431)["detail"] == "the request line and headers are over 32768 bytes"
    # Far more than the parser keeps: it drops the connection (400) rather than buffer it.
    try:
        answer = await client.get(PEOPLE, headers={"X-Padding": "a" * 2 * MB})
        assert answer.status_code == 400, answer.text
    except httpx.TransportError:
        pass  # closed while the rest of the headers were on their way
    assert (await client.get("/healthz")).status_code == 200


# -- every route of every service ----------------------------------------------------------------


def _path(template: str) -> str:
    return re.sub(r"\{[^}]+\}", ANY_ID, template)


def _bodied_operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) of every operation that takes a request body."""
    return [
        (method.upper(), path, operation)
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]


def _limit(settings: Settings, upload: bool) -> int:
    return settings.max_upload_bytes if upload else settings.max_body_bytes


async def test_every_route_that_takes_a_body_refuses_one_over_its_limit_before_reading_it(
    service_clients: dict[str, httpx.AsyncClient],
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    """Derived from each API's OpenAPI document: without a token, a route that needs one
    answers 401 and any other 413; with one, every route 413. Nothing is written."""
    before = {name: await fingerprint(migrated, name) for name in SERVICES}
    bodies = {upload: b" " * (_limit(migrated, upload) + 1) for upload in (False, True)}
    checked = 0
    for name, client in service_clients.items():
        doc = create_app(SERVICES[name], migrated).openapi()
        for method, template, operation in _bodied_operations(doc):
            body = bodies[operation.get(BODY_CLASS) == "upload"]
            needs_token = {"HTTPBearer": []} in operation.get("security", [])
            where = f"{name} {method} {template}"
            for headers, expected in (({}, 401 if needs_token else 413), (auth, 413)):
                answer = await client.request(
                    method,
                    _path(template),
                    content=body,
                    headers={**headers, "Content-Type": "application/json"},
                )
                assert answer.status_code == expected, f"{where}: {answer.text[:300]}"
                assert answer.headers["content-type"] == PROBLEM_JSON, where
            checked += 1
    assert checked >= 45, checked
    for name in SERVICES:
        assert changed_tables(before[name], await fingerprint(migrated, name)) == [], name


def _console_writes() -> list[APIRoute]:
    """The console's routes that take a form (it documents none in OpenAPI: its routers are
    the list)."""
    return [
        route
        for router in ALL["console"].routers
        for route in router.routes
        if isinstance(route, APIRoute) and (route.methods or set()) & {"POST", "PUT", "PATCH"}
    ]


@pytest.fixture(scope="module")
async def console_client(migrated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The console in-process; what is tested here is refused before it needs its database
    (no session cookie is sent, so none is looked up)."""
    app = create_app(ALL["console"], migrated)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_every_console_form_refuses_a_body_over_its_limit(
    console_client: httpx.AsyncClient, migrated: Settings
) -> None:
    routes = _console_writes()
    assert len(routes) >= 5, [r.path for r in routes]
    for route in routes:
        upload = (route.openapi_extra or {}).get(BODY_CLASS) == "upload"
        body = b"-" * (_limit(migrated, upload) + 1)
        for method in (route.methods or set()) & {"POST", "PUT", "PATCH"}:
            answer = await console_client.request(
                method,
                _path(route.path),
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert answer.status_code == 413, f"{method} {route.path}: {answer.text[:300]}"


async def test_the_console_upload_takes_a_file_over_the_form_limit(
    console_client: httpx.AsyncClient, migrated: Settings
) -> None:
    files = {"file": ("sheet.csv", _csv_over(3 * MB // 2, people=1), "text/csv")}
    # Signed out, without the form's CSRF token: the form is read whole, then refused as
    # forged (403), not as too large.
    answer = await console_client.post("/imports", files=files)
    assert answer.status_code == 403, answer.text[:300]
    # The same body to a form that is not an upload is too large.
    refused = await console_client.post("/language", files=files)
    assert refused.status_code == 413, refused.text[:300]
