"""A running jobs process serving /metrics on LABOURX_METRICS_PORT, as in a container."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import httpx
import pytest

from shared.infra import free_port
from tests.deploy.files import WorkerProcess
from tests.support import REPO

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="module")
def jobs_process() -> Iterator[WorkerProcess]:
    """`labourx jobs registry` with LABOURX_METRICS_PORT set, its /metrics read once it serves.

    Its database is unreachable on purpose: its passes fail (and are counted) without touching
    any database the other tests use.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABOURX_")}
    env.update(
        LABOURX_ENV="test",
        LABOURX_DATABASE_URL="postgresql://labourx@127.0.0.1:1/postgres",
        LABOURX_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",
        LABOURX_METRICS_PORT=str(port),
        LABOURX_LOG_LEVEL="CRITICAL",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "labourx.cli", "jobs", "registry"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"labourx jobs exited with {process.returncode}"
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
                if "labourx_job_failures_total" in response.text:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "no /metrics on LABOURX_METRICS_PORT in 30 s"
            time.sleep(0.2)
        yield WorkerProcess(process, port, response.text)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
