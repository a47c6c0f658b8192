"""The container image: pinned base, dependencies from the lock, non-root, a correct probe."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING

import pytest

from tests.deploy.files import DEPLOY, workloads
from tests.support import REPO

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

DOCKERFILE = DEPLOY / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _base_images() -> list[str]:
    args = {}
    images = []
    for instruction, rest in _instructions():
        if instruction == "ARG" and "=" in rest:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        if instruction == "FROM":
            image = rest.split()[0]
            images.append(re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), ""), image))
    return images


def test_every_base_image_is_pinned_to_an_exact_release_or_digest() -> None:
    images = _base_images()
    assert len(images) >= 2, "a multi-stage build: one stage builds, a slim one runs"
    for image in images:
        pinned = "@sha256:" in image or re.search(r":\d+\.\d+\.\d+[\w.-]*$", image)
        assert pinned, f"{image}: pin a digest or an exact x.y.z tag, never latest or x.y"


def test_dependencies_come_from_the_lock_file_only() -> None:
    instructions = _instructions()
    copies = [rest for instruction, rest in instructions if instruction == "COPY"]
    assert any("uv.lock" in rest for rest in copies)
    syncs = [rest for instruction, rest in instructions if "uv sync" in rest]
    assert syncs
    assert all("--frozen" in rest and "--no-dev" in rest for rest in syncs)


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    users = [rest for instruction, rest in _instructions() if instruction == "USER"]
    assert users, "no USER: the processes would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "numeric, so Kubernetes' runAsNonRoot can check it"
    assert int(uid) != 0, "not root"
    for name, workload in workloads():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == int(uid), name


def test_the_entrypoint_is_the_labourx_command() -> None:
    entrypoints = [rest for instruction, rest in _instructions() if instruction == "ENTRYPOINT"]
    assert entrypoints
    assert json.loads(entrypoints[-1]) == ["labourx"]


def test_the_build_context_is_an_allow_list_that_keeps_secrets_out() -> None:
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "allow-list: everything is excluded unless named"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    assert {"pyproject.toml", "uv.lock", "shared", "services", "labourx"} <= allowed
    assert not allowed & {".env", ".git", ".venv", ".labourx", "tests"}
    # Everything the Dockerfile copies from the context is allowed in.
    for instruction, rest in _instructions():
        if instruction == "COPY" and "--from" not in rest:
            for source in rest.split()[:-1]:
                assert source in allowed, f"COPY {source} is not in .dockerignore's allow-list"


# The health check script runs inside the image; here it is exercised against a stand-in API.


def _healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", DEPLOY / "healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def stand_in_api() -> Iterator[dict[str, tuple[int, dict]]]:
    """An HTTP server on a free local port answering what the test puts in the dict."""
    answers: dict[str, tuple[int, dict]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = answers.get(self.path, (404, {}))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    answers["port"] = (server.server_address[1], {})
    yield answers
    server.shutdown()
    server.server_close()


def test_an_api_stays_ready_while_the_broker_is_down_but_not_without_its_database(
    stand_in_api: dict[str, tuple[int, dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = _healthcheck()
    monkeypatch.setattr(probe, "API", f"http://127.0.0.1:{stand_in_api['port'][0]}")
    monkeypatch.delenv("LABOURX_METRICS_PORT", raising=False)

    stand_in_api["/readyz"] = (200, {"status": "ready"})
    stand_in_api["/healthz"] = (200, {"status": "ok"})
    assert probe.main(["--ready"]) == 0
    assert probe.main([]) == 0

    # The shape shared/app.py answers with: the outbox keeps writes working without Kafka.
    broker_down = {"database": "ok", "broker": "error: KafkaConnectionError"}
    stand_in_api["/readyz"] = (503, {"status": "not ready", "checks": broker_down})
    assert probe.main(["--ready"]) == 0

    database_down = {"database": "error: OSError", "broker": "ok"}
    stand_in_api["/readyz"] = (503, {"status": "not ready", "checks": database_down})
    assert probe.main(["--ready"]) == 1

    stand_in_api["/healthz"] = (500, {})
    assert probe.main([]) == 1


def test_an_api_is_alive_while_it_answers_whatever_its_metrics_port(
    stand_in_api: dict[str, tuple[int, dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production APIs set LABOURX_METRICS_PORT too (their /metrics is there): `--api` asks
    the API itself."""
    probe = _healthcheck()
    monkeypatch.setattr(probe, "API", f"http://127.0.0.1:{stand_in_api['port'][0]}")
    monkeypatch.setenv("LABOURX_METRICS_PORT", "1")  # nothing listens there
    stand_in_api["/healthz"] = (200, {"status": "ok"})
    assert probe.main(["--api"]) == 0
    stand_in_api["/healthz"] = (500, {})
    assert probe.main(["--api"]) == 1


def test_a_process_without_an_api_is_alive_while_it_serves_metrics(
    stand_in_api: dict[str, tuple[int, dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = _healthcheck()
    monkeypatch.setenv("LABOURX_METRICS_PORT", str(stand_in_api["port"][0]))
    stand_in_api["/metrics"] = (200, {})
    assert probe.main([]) == 0
    monkeypatch.setenv("LABOURX_METRICS_PORT", "1")  # nothing listens there
    assert probe.main([]) == 1
