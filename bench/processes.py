"""Child processes of a run: labourx's own commands, the reference app, the load generator."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import httpx

from bench.environment import REFERENCE_DATABASE, REPO, Environment
from bench.tree import CLI_MODULE
from shared.http_limits import uvicorn_options
from shared.infra import free_port

if TYPE_CHECKING:
    from pathlib import Path

    from bench.load import LoadSpec


class Child:
    """One long-running child process with its log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        if (code := self.process.poll()) is not None:
            raise RuntimeError(f"{self.name} exited with {code}; see {self.log}")

    def stop(self) -> None:
        """SIGTERM, as the dev runner stops it; SIGKILL if it does not finish in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def labourx(env: Environment, name: str, *args: str) -> Child:
    """`labourx <args>` as its own process, exactly as the dev runner starts it."""
    argv = [sys.executable, "-m", CLI_MODULE, *args]
    return Child(name, argv, env.child_env(), env.log_dir / f"{name}.log")


class Api:
    """An HTTP server child on a free loopback port."""

    def __init__(self, child: Child, port: int) -> None:
        self.child = child
        self.base_url = f"http://127.0.0.1:{port}"

    async def wait_healthy(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient() as client:
            while True:
                self.child.check_alive()
                try:
                    if (await client.get(f"{self.base_url}/healthz", timeout=1)).is_success:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.child.name} did not answer /healthz")
                await asyncio.sleep(0.1)


async def start_labourx_api(env: Environment, service: str, name: str) -> Api:
    port = free_port()
    api = Api(labourx(env, name, "api", service, "--port", str(port)), port)
    await api.wait_healthy()
    if service == "registry":  # the consumers started after it fetch person keys there
        env.registry_url = api.base_url
    return api


async def start_reference_api(env: Environment) -> Api:
    """The reference app, served by uvicorn with the same settings as `labourx api`."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.reference_app", "--port", str(port)]
    child = Child("reference-api", argv, _reference_env(env), env.log_dir / "reference-api.log")
    api = Api(child, port)
    await api.wait_healthy()
    return api


def _reference_env(env: Environment) -> dict[str, str]:
    """The reference's settings: its databases, labourx's token settings, pool size and server
    options."""
    settings = env.settings
    return {
        **os.environ,
        "BENCH_REFERENCE_DSN": env.dsn(REFERENCE_DATABASE),
        "BENCH_REFERENCE_REGISTRY_DSN": env.dsn("registry"),
        "BENCH_REFERENCE_UVICORN_OPTIONS": json.dumps(uvicorn_options(settings)),
        "BENCH_REFERENCE_POOL_SIZE": str(settings.db_pool_size),
        "BENCH_REFERENCE_POOL_OVERFLOW": str(settings.db_max_overflow),
        "BENCH_REFERENCE_JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "BENCH_REFERENCE_JWT_AUDIENCE": settings.jwt_audience,
        "BENCH_REFERENCE_JWT_ISSUER": settings.jwt_issuer,
    }


async def generate_load(env: Environment, spec: LoadSpec) -> dict[str, Any]:
    """Run the load generator process to completion and return its figures."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.load",
        json.dumps(asdict(spec)),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed: {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out)
    return result
