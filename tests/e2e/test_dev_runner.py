"""End to end: start the system exactly as `make run` does, and drive the first flow over HTTP."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.auth import mint_token
from shared.settings import Settings
from tests.support import REPO, jobseeker

pytestmark = pytest.mark.slow


class DevRunner:
    """`labourx dev` as a child process, on its own ports, with no servers configured."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port_offset = random.randrange(1000, 5000, 10)
        self.process: subprocess.Popen[bytes] | None = None
        self.seen = 0

    def start(self) -> dict[str, str]:
        self.seen = len(self.output()) if self.log.exists() else 0
        env = {k: v for k, v in os.environ.items() if not k.startswith("LABOURX_")}
        env["LABOURX_LOG_LEVEL"] = "WARNING"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "shared.cli",
                    "dev",
                    "--data-dir",
                    str(self.data_dir),
                    "--port-offset",
                    str(self.port_offset),
                ],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while "labourx is running" not in self.output():
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.2)
        # The URL list follows that line; on a loaded machine it can take a moment to print.
        while not {"registry", "matching", "predeparture", "notify"} <= set(urls := self.urls()):
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.2)
        return urls

    def urls(self) -> dict[str, str]:
        return dict(re.findall(r"^  (\S+(?: \S+)*?)\s{2,}(http://\S+)$", self.output(), re.M))

    def output(self) -> str:
        """What this run printed so far (earlier runs' output excluded)."""
        return self.log.read_text(errors="replace")[self.seen :]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(60)


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[DevRunner]:
    dev = DevRunner(tmp_path / "data", tmp_path / "dev.log")
    yield dev
    if dev.process is not None and dev.process.poll() is None:
        dev.stop(signal.SIGKILL)


def test_the_run_command_starts_everything_and_the_first_flow_works(runner: DevRunner) -> None:
    urls = runner.start()
    services = ["registry", "matching", "predeparture", "notify"]
    assert set(services) <= set(urls), urls
    for name, url in urls.items():
        if name in services:
            assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200, name
            assert httpx.get(f"{url}/openapi.json", timeout=10).status_code == 200, name
        else:
            assert "labourx_" in httpx.get(url, timeout=10).text, name

    token = mint_token(
        Settings(), subject="officer", roles=["esc_staff"], office="ESC-VT", province="LA-VT"
    )
    auth = {"Authorization": f"Bearer {token}"}
    created = httpx.post(f"{urls['registry']}/v1/jobseekers", json=jobseeker(), headers=auth)
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]

    deadline = time.monotonic() + 30
    items: list[dict[str, object]] = []
    while not items and time.monotonic() < deadline:
        page = httpx.get(f"{urls['notify']}/v1/messages?person_id={person_id}", headers=auth)
        items = page.json()["items"]
        time.sleep(0.2)
    assert [m["channel"] for m in items] == ["sms"], runner.output()
    assert "ສະບາຍດີ" in str(items[0]["body"])

    # The jobs process hands it to the development provider, which keeps it for viewing.
    admin = {"Authorization": f"Bearer {mint_token(Settings(), subject='admin', roles=['admin'])}"}
    kept: list[dict[str, object]] = []
    while not kept and time.monotonic() < deadline + 30:
        kept = httpx.get(f"{urls['notify']}/v1/dev/outbox", headers=admin).json()
        kept = [k for k in kept if k["message_id"] == items[0]["id"]]
        time.sleep(0.2)
    assert kept and kept[0]["body"] == items[0]["body"], runner.output()
    page = httpx.get(f"{urls['notify']}/v1/messages?person_id={person_id}", headers=auth)
    assert page.json()["items"][0]["status"] == "sent"

    assert runner.stop(signal.SIGTERM) == 0
    assert "labourx stopped" in runner.output()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{urls['registry']}/healthz", timeout=2)

    # The embedded PostgreSQL keeps its data across a restart of the runner.
    urls = runner.start()
    again = httpx.get(f"{urls['registry']}/v1/people/{person_id}", headers=auth, timeout=10)
    assert again.status_code == 200
    assert runner.stop(signal.SIGINT) == 0
