"""The whole system as `make run` starts it, for the browser tests and the screenshots.

`labourx dev` runs as a child process on ports of its own (a random --port-offset), with the
test session's PostgreSQL under a database prefix of its own. It starts its own development
broker: the services' consumer groups have fixed names, so on the test session's broker they
would join the in-process tests' groups and take their events.
"""

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
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from shared.settings import SERVICES, Settings

REPO = Path(__file__).resolve().parents[2]
# Far longer than a start takes on a loaded two-core machine (about 30 s); a start slower than
# this is a defect to look at, and the runner's own progress lines say where it was.
START_DEADLINE_S = 300.0
STOP_DEADLINE_S = 60.0
# Ports the runner takes with an offset: the five services and its broker.
_BASE_PORTS = (8100, 8101, 8102, 8103, 8104, 9092)


def _free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_offset() -> int:
    """A port offset at which every port the runner takes is free (the e2e runner tests use
    1000-5000; these stay above)."""
    for _ in range(200):
        offset = random.randrange(5000, 9000, 10)
        if all(_free(port + offset) for port in _BASE_PORTS):
            return offset
    raise RuntimeError("no free port offset for labourx dev")


@dataclass
class DevSystem:
    """`labourx dev` as a child process, its output in a log file."""

    # None: the runner starts its embedded PostgreSQL in the work directory.
    database_url: str | None
    work_dir: Path
    prefix: str = field(default_factory=lambda: f"lxb_{uuid.uuid4().hex[:8]}_")
    port_offset: int = field(default_factory=free_offset)
    process: subprocess.Popen[bytes] | None = None
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def log(self) -> Path:
        return self.work_dir / "labourx-dev.log"

    @property
    def settings(self) -> Settings:
        """Settings naming this system's databases (to drop them, and to mint its tokens)."""
        return Settings(env="test", database_url=self.database_url, database_prefix=self.prefix)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LABOURX_")}
        if self.database_url:
            env["LABOURX_DATABASE_URL"] = self.database_url
        env.update(
            LABOURX_DATABASE_PREFIX=self.prefix,
            # A Lao page showing a string the Lao catalogue lacks fails instead of showing it.
            LABOURX_CONSOLE_STRICT_TRANSLATIONS="true",
            LABOURX_LOG_LEVEL=os.environ.get("LABOURX_TEST_CHILD_LOG_LEVEL", "WARNING"),
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self) -> dict[str, str]:
        """Start and wait for its "labourx is running" list of URLs."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "labourx.cli",
                    "dev",
                    "--data-dir",
                    str(self.work_dir / "data"),
                    "--port-offset",
                    str(self.port_offset),
                ],
                cwd=REPO,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            text = self.output()
            if "labourx is running" in text:
                found = dict(
                    re.findall(
                        r"^  (\S+)\s+(http://\S+)$", text.partition("labourx is running")[2], re.M
                    )
                )
                if set(SERVICES) <= set(found):
                    self.urls = found
                    return found
            code = self.process.poll()
            assert code is None, f"labourx dev exited with code {code}:\n{text}"
            assert time.monotonic() < deadline, (
                f"labourx dev did not say it was running within {START_DEADLINE_S:.0f} s:\n{text}"
            )
            time.sleep(0.2)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        """Ctrl-C as an officer would give it; then make sure nothing is left."""
        if self.process is None or self.process.poll() is not None:
            return
        children = psutil.Process(self.process.pid).children(recursive=True)
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        for child in children:  # none, after a clean stop
            with contextlib.suppress(psutil.Error):
                child.kill()
