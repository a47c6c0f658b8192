"""The development runner: infrastructure, then one supervised process per service.

Each service runs whole in one process (`labourx run <service> --provision`: its own
migrations and topics, then its API, relay, consumers and jobs as tasks), so a laptop runs four
Python processes, not fifteen, and the services start side by side. This supervisor imports no
service code: it starts processes, waits for them to answer, says what it is waiting for, and
restarts what dies with a growing delay. It never gives up on time alone: only when a service
cannot start at all (it keeps exiting before it ever answered) does it stop, saying why.
"""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from shared.infra import EmbeddedPostgres, TansuBroker, free_port
from shared.settings import Settings

# A service that exits this many times in a row without ever answering cannot start: the
# reason is in its output (a port taken, a migration failing), and waiting longer will not help.
STARTUP_ATTEMPTS = 3
# Restart delays after a crash: 1 s, 2 s, 4 s ... up to a minute; reset once it has run a while.
RESTART_DELAY_MAX_S = 60.0
STABLE_AFTER_S = 60.0
PROGRESS_EVERY_S = 10.0


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Child:
    """One service's process, what it last said, and how its restarts are going."""

    name: str
    argv: list[str]
    url: str
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    answered: bool = False  # it has answered /healthz since it was last started
    ever_answered: bool = False
    failures_in_a_row: int = 0
    restart_at: float | None = None
    last_said: str = "starting Python and loading its code"
    tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=15))

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            self.argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.started_at = time.monotonic()
        self.answered = False
        self.restart_at = None
        self.last_said = "starting Python and loading its code"
        assert self.process.stdout is not None
        threading.Thread(target=self._forward, args=(self.process.stdout,), daemon=True).start()

    def _forward(self, stream: IO[bytes]) -> None:
        """Pass the child's output through, remembering its last lines and what it said."""
        prefix = f"{self.name}: "
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            self.tail.append(line)
            if line.startswith(prefix):
                self.last_said = line.removeprefix(prefix)
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def probe(self) -> bool:
        """True once the API answers; a slow answer on a busy machine still counts."""
        try:
            return httpx.get(f"{self.url}/healthz", timeout=10).status_code == 200
        except httpx.HTTPError:
            return False


class CannotStart(Exception):
    """A service keeps exiting before it ever answered."""


def _children(settings: Settings, ports: dict[str, int]) -> list[Child]:
    exe = [sys.executable, "-m", "shared.cli"]
    return [
        Child(
            name,
            [*exe, "run", name, "--port", str(port), "--provision"],
            f"http://127.0.0.1:{port}",
        )
        for name, port in ports.items()
    ]


def _taken(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def run_dev(
    settings: Settings, ports: dict[str, int], *, data_dir: Path, port_offset: int = 0
) -> int:
    """Start everything and block until SIGINT/SIGTERM, then stop it all; the exit status."""
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    ports = {name: port + port_offset for name, port in ports.items()}
    if taken := [f"{name} ({port})" for name, port in ports.items() if _taken(port)]:
        say(
            f"cannot start: port(s) already in use: {', '.join(taken)}. Is labourx already"
            " running? Stop it, or run side by side with --port-offset."
        )
        return 1

    env = dict(os.environ)
    # Readable lines at a terminal unless the caller asked for JSON.
    env.setdefault("LABOURX_LOG_FORMAT", "text")
    # An idle laptop, not a cluster: consumers ask the development broker for records every 5 s
    # (it answers at once when one arrives) and send heartbeats every 3 s; with production's 1 s
    # each, the broker alone took more than 1% of a core doing nothing (bench figure 9).
    env.setdefault("LABOURX_CONSUMER_FETCH_MAX_WAIT_MS", "5000")
    env.setdefault("LABOURX_CONSUMER_HEARTBEAT_INTERVAL_MS", "3000")
    postgres: EmbeddedPostgres | None = None
    broker: TansuBroker | None = None
    children: list[Child] = []
    started = time.monotonic()
    try:
        overrides: dict[str, object] = {}
        if not settings.database_url:
            postgres = EmbeddedPostgres(data_dir / "postgres")
            say(f"starting the embedded PostgreSQL (data kept in {postgres.data_dir})")
            overrides["database_url"] = postgres.start(on_wait=say)
        if not settings.kafka_bootstrap_servers:
            data_dir.mkdir(parents=True, exist_ok=True)
            broker = TansuBroker(
                port=9092 + port_offset if port_offset >= 0 else free_port(),
                log_path=data_dir / "tansu.log",
            )
            overrides["kafka_bootstrap_servers"] = broker.start()
            say(
                f"started the Tansu broker on {broker.bootstrap_servers}. It keeps events in"
                " memory only: events not yet consumed when it stops are lost (fine for"
                " development; production uses Apache Kafka)"
            )
        settings = settings.model_copy(update=overrides)
        env["LABOURX_DATABASE_URL"] = str(settings.database_url)
        env["LABOURX_KAFKA_BOOTSTRAP_SERVERS"] = settings.bootstrap_servers
        # The console reaches each service where this run serves it (ports move with
        # --port-offset), unless told otherwise.
        for name, port in ports.items():
            if name != "console":
                env.setdefault(f"LABOURX_CONSOLE_{name.upper()}_URL", f"http://127.0.0.1:{port}")

        children = _children(settings, ports)
        for child in children:
            child.start(env)
        say(f"starting {', '.join(c.name for c in children)} (each migrates its own database)")
        if not _wait_until_answering(children, env, stopping):
            return 0
        say(f"\nlabourx is running ({time.monotonic() - started:.0f} s to start):")
        for child in children:
            say(f"  {child.name:<14} {child.url}")
        say(
            "  Open the console in a browser; the services' API documentation is at <URL>/docs."
            " Ctrl-C stops everything.\n"
        )
        _supervise(children, env, stopping)
        return 0
    except CannotStart as exc:
        say(f"\nlabourx could not start: {exc}")
        return 1
    finally:
        _stop_all(children)
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()
        say("labourx stopped")


def _wait_until_answering(
    children: list[Child], env: dict[str, str], stopping: threading.Event
) -> bool:
    """Wait until every API answers, saying every few seconds which are still starting and
    what they are doing. False when stopped first; CannotStart when one cannot start."""
    next_report = time.monotonic() + PROGRESS_EVERY_S
    while not stopping.is_set():
        for child in children:
            _restart_if_exited(child, env)
            if not child.answered and child.exit_code() is None and child.probe():
                child.answered = child.ever_answered = True
                child.failures_in_a_row = 0
                say(f"{child.name} answers on {child.url}")
        waiting = [c for c in children if not c.answered]
        if not waiting:
            return True
        if time.monotonic() >= next_report:
            now = time.monotonic()
            say(
                "still waiting for "
                + "; ".join(
                    f"{c.name} ({now - c.started_at:.0f} s: {c.last_said})" for c in waiting
                )
            )
            next_report = now + PROGRESS_EVERY_S
        stopping.wait(0.25)
    return False


def _restart_if_exited(child: Child, env: dict[str, str]) -> None:
    """Schedule and make restarts of a child that exited, with a growing delay."""
    now = time.monotonic()
    if child.restart_at is not None:
        if now >= child.restart_at:
            say(f"{child.name}: starting again")
            child.start(env)
        return
    code = child.exit_code()
    if code is None:
        return
    if now - child.started_at >= STABLE_AFTER_S and child.answered:
        child.failures_in_a_row = 0
    child.failures_in_a_row += 1
    if not child.ever_answered and child.failures_in_a_row >= STARTUP_ATTEMPTS:
        last = "\n    ".join(list(child.tail)[-8:]) or "(it printed nothing)"
        raise CannotStart(
            f"{child.name} exited {child.failures_in_a_row} times in a row (last exit code"
            f" {code}) before it ever answered on {child.url}. Its last lines:\n    {last}"
        )
    delay = min(2.0 ** (child.failures_in_a_row - 1), RESTART_DELAY_MAX_S)
    say(
        f"{child.name} exited with code {code}; starting it again in {delay:.0f} s"
        f" (restart {child.failures_in_a_row} in a row; the other services keep running)"
    )
    child.answered = False
    child.restart_at = now + delay


def _supervise(children: list[Child], env: dict[str, str], stopping: threading.Event) -> None:
    """Until stopped: restart what dies (never stopping the rest), note when it answers again."""
    while not stopping.wait(0.5):
        for child in children:
            _restart_if_exited(child, env)
            if not child.answered and child.exit_code() is None and child.probe():
                child.answered = child.ever_answered = True
                say(f"{child.name} answers again on {child.url}")


def _stop_all(children: list[Child], grace_s: float = 15) -> None:
    running = [c.process for c in children if c.process is not None and c.process.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + grace_s
    for process in running:
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
