"""End to end: start the system exactly as `make run` does, on a busy machine, and drive the
first flow over HTTP; kill a service and watch it come back; stop it and find nothing left."""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import httpx
import psutil
import pytest

from shared.auth import mint_token
from shared.settings import Settings
from tests.support import EVENT_TRAVEL_S, REPO, SMS_CONSENT, jobseeker, postgres_data_dir

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.slow

APIS = ["registry", "matching", "predeparture", "notify"]
SERVICES = ["console", *APIS]
# Longer than any start should take on a loaded CI machine; a start that is slower than this
# is a defect to look at, and the runner's own progress lines in the output say where it was.
START_DEADLINE_S = 240


# The process groups of the runners launched by the running test: tests/e2e/conftest.py kills
# what is left of them once the test (and its own checks of what was left) is over.
LAUNCHED_GROUPS: list[int] = []


class DevRunner:
    """`labourx dev` as a child process, on its own ports, with no servers configured."""

    def __init__(self, data_dir: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port_offset = random.randrange(1000, 5000, 10)
        self.process: subprocess.Popen[bytes] | None = None
        self.seen = 0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LABOURX_")}
        # No SMS quiet hours (21:00-07:00 in Vientiane, 14:00-24:00 UTC): the flow's welcome
        # SMS must go whatever the hour the tests run at (equal times switch them off).
        self.env |= {"LABOURX_SMS_QUIET_START": "00:00", "LABOURX_SMS_QUIET_END": "00:00"}
        self.env |= env or {}

    def argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "labourx.cli",
            "dev",
            "--data-dir",
            str(self.data_dir),
            "--port-offset",
            str(self.port_offset),
        ]

    def launch(self) -> None:
        self.seen = len(self.output()) if self.log.exists() else 0
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                self.argv(),
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                # A process group of its own, as at a terminal, where Ctrl-C reaches them all.
                start_new_session=True,
            )
        LAUNCHED_GROUPS.append(self.process.pid)

    def start(self) -> dict[str, str]:
        """Launch and wait for the URL list, as long as the runner lives and says it works."""
        self.launch()
        assert self.process is not None
        deadline = time.monotonic() + START_DEADLINE_S
        while not set(SERVICES) <= set(urls := self.urls()):
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"not running yet:\n{self.output()}"
            time.sleep(0.2)
        return urls

    def urls(self) -> dict[str, str]:
        text = self.output().partition("labourx is running")[2]
        return dict(re.findall(r"^  (\S+)\s+(http://\S+)$", text, re.M))

    def output(self) -> str:
        """What this run printed so far (earlier runs' output excluded)."""
        return self.log.read_text(errors="replace")[self.seen :]

    def service_process(self, name: str) -> psutil.Process:
        assert self.process is not None
        for child in psutil.Process(self.process.pid).children():
            if child.cmdline()[-4:-2] == ["run", name] or f"run {name} " in " ".join(
                child.cmdline()
            ):
                return child
        raise AssertionError(f"no process runs {name}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(120)


def _postmaster(data_dir: Path) -> psutil.Process | None:
    with contextlib.suppress(OSError, ValueError, psutil.Error):
        pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        return psutil.Process(pid)
    return None


def _alive(process: psutil.Process) -> bool:
    """Still the same process (psutil tells a reused pid by its start time) and running, not
    merely waiting to be reaped by whoever inherited it."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[DevRunner]:
    with postgres_data_dir("dev-runner") as data:
        dev = DevRunner(data, tmp_path / "dev.log")
        yield dev
        if dev.process is not None and dev.process.poll() is None:
            dev.stop(signal.SIGKILL)
        # Only the server of this data folder (a pid in a stale file may be anyone's by now).
        postmaster = _postmaster(dev.data_dir)
        if postmaster is not None and str(dev.data_dir) in " ".join(postmaster.cmdline()):
            postmaster.kill()


@contextlib.contextmanager
def busy_machine() -> Iterator[None]:
    """Every core kept busy by another program, as on a shared office or CI machine."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def _auth(**claims: object) -> dict[str, str]:
    token = mint_token(Settings(), **claims)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


def test_the_run_command_starts_on_a_busy_machine_and_the_first_flow_works(
    runner: DevRunner,
) -> None:
    with busy_machine():
        urls = runner.start()
    assert list(urls) == SERVICES, "the console's URL first, then the APIs'"
    # The console answers its sign-in page, in Lao, and reaches the services on this run's ports.
    sign_in = httpx.get(f"{urls['console']}/", timeout=30, follow_redirects=True)
    assert sign_in.status_code == 200
    assert 'lang="lo"' in sign_in.text
    for name in APIS:
        assert httpx.get(f"{urls[name]}/readyz", timeout=30).status_code == 200, name
        assert httpx.get(f"{urls[name]}/openapi.json", timeout=30).status_code == 200, name
        # One process per service runs its API, relay and consumer: one /metrics shows all.
        metrics = httpx.get(f"{urls[name]}/metrics", timeout=30).text
        assert f'labourx_relay_leader{{service="{name}"}} 1.0' in metrics, name

    officer = _auth(subject="officer", roles=["esc_staff"], office="ESC-VT", province="LA-VT")
    body = jobseeker(consents=SMS_CONSENT)
    created = httpx.post(f"{urls['registry']}/v1/jobseekers", json=body, headers=officer)
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]

    # The welcome SMS, in Lao, handed by notify's jobs to the development provider.
    admin = _auth(subject="admin", roles=["admin"])
    deadline = time.monotonic() + EVENT_TRAVEL_S
    kept: list[dict[str, object]] = []
    messages: list[dict[str, object]] = []
    while not kept:
        assert time.monotonic() < deadline, (
            f"no welcome SMS kept; notify's messages for the person: {messages}\n{runner.output()}"
        )
        time.sleep(0.3)
        messages = httpx.get(
            f"{urls['notify']}/v1/messages", params={"person_id": person_id}, headers=officer
        ).json()["items"]
        ids = {m["id"] for m in messages if m["channel"] == "sms"}
        outbox = httpx.get(f"{urls['notify']}/v1/dev/outbox", headers=admin, timeout=30).json()
        kept = [k for k in outbox if k["message_id"] in ids]
    assert "ສະບາຍດີ" in str(kept[0]["body"])

    # A service killed outright comes back by itself; the others are not touched.
    others = {name: runner.service_process(name).pid for name in SERVICES if name != "matching"}
    runner.service_process("matching").kill()
    deadline = time.monotonic() + 120
    while "matching answers again" not in runner.output():
        assert time.monotonic() < deadline, runner.output()
        time.sleep(0.2)
    assert httpx.get(f"{urls['matching']}/healthz", timeout=30).status_code == 200
    assert {name: runner.service_process(name).pid for name in others} == others

    children = psutil.Process(runner.process.pid).children()  # type: ignore[union-attr]
    postmaster = _postmaster(runner.data_dir)
    assert postmaster is not None
    assert runner.stop(signal.SIGTERM) == 0
    assert "labourx stopped" in runner.output()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{urls['registry']}/healthz", timeout=5)
    assert not [p.pid for p in children if _alive(p)], "processes left behind"
    assert not _alive(postmaster), "the embedded PostgreSQL was left running"

    # The embedded PostgreSQL keeps its data across a restart of the runner.
    urls = runner.start()
    again = httpx.get(f"{urls['registry']}/v1/people/{person_id}", headers=officer, timeout=30)
    assert again.status_code == 200
    assert runner.stop(signal.SIGINT) == 0


def test_a_port_in_use_is_named_at_once(runner: DevRunner) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 8102 + runner.port_offset))
        taken.listen()
        runner.launch()
        assert runner.process is not None
        assert runner.process.wait(120) == 1
    assert f"matching ({8102 + runner.port_offset})" in runner.output()
    assert "already in use" in runner.output()


def test_a_service_that_cannot_start_stops_the_start_with_its_reason(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on: every connection is refused
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    dev = DevRunner(
        tmp_path / "data",
        tmp_path / "dev.log",
        env={"LABOURX_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{closed}/postgres"},
    )
    dev.launch()
    assert dev.process is not None
    try:
        assert dev.process.wait(240) == 1, dev.output()
    finally:
        if dev.process.poll() is None:
            dev.process.kill()
    output = dev.output()
    assert "labourx could not start" in output, output
    assert "exited 3 times in a row" in output
    assert "Connect call failed" in output or "Connection refused" in output, output
    assert "labourx stopped" in output
