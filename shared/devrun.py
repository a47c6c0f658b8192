"""The development runner: infrastructure, then one supervised process per service.

Each service runs whole in one process (`labourx run <service> --provision`: its own
migrations and topics, then its API, relay, consumers and jobs as tasks), so a laptop runs four
Python processes, not fifteen, and the services start side by side. This supervisor imports no
service code: it starts processes, waits for them to answer, says what it is waiting for, and
restarts what dies with a growing delay. It never gives up on time alone: only when a service
cannot start at all (it keeps exiting before it ever answered) does the start fail, saying why.
Once running, a service that keeps crashing is restarted ever more slowly, never by stopping the
rest: the development broker keeps events in memory only, so stopping it would lose every event
not yet consumed, which is the crashing service's catching up. Whatever way the runner ends
(Ctrl-C, SIGTERM, SIGHUP, a failed start, an error of its own) it stops all it started.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from shared.infra import EmbeddedPostgres, TansuBroker, free_port

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from shared.settings import Settings

# A service that exits this many times in a row without ever answering cannot start: the
# reason is in its output (a port taken, a migration failing), and waiting longer will not help.
STARTUP_ATTEMPTS = 3
# Restart delays after a crash double from settings.dev_restart_delay_s (1 s) up to
# settings.dev_restart_delay_max_s (a minute); they start over once it has run this long.
STABLE_AFTER_S = 60.0
PROGRESS_EVERY_S = 10.0
# The runner's own /metrics (restarts, which services answer), on loopback, moved by
# --port-offset like the services' ports.
METRICS_PORT = 8109


def say(message: str) -> None:
    # A terminal that hung up answers writes with EIO: what is said is lost, but the stopping
    # that follows (each step says what it does) must still happen.
    with contextlib.suppress(OSError):
        print(message, flush=True)


class RunnerMetrics:
    """What the supervisor knows, for Prometheus: restarts per service and which answer."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.restarts = Counter(
            "labourx_dev_restarts",
            "Times the dev runner started a service again after it exited",
            ["service"],
            registry=self.registry,
        )
        self.up = Gauge(
            "labourx_dev_service_up",
            "1 while the service answers /healthz, 0 while it is starting or waiting to restart",
            ["service"],
            registry=self.registry,
        )

    def serve(self, port: int) -> Callable[[], None]:
        """Serve /metrics on loopback; returns what stops it."""
        server, _ = start_http_server(port, addr="127.0.0.1", registry=self.registry)

        def stop() -> None:
            server.shutdown()
            server.server_close()

        return stop


@dataclass
class Child:
    """One service's process, what it last said, and how its restarts are going."""

    name: str
    argv: list[str]
    url: str
    log_path: Path
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
        """Pass the child's output through and into its own log file (what scrolled past at
        the terminal during a crash loop is still there), remembering its last lines."""
        marker = f"{self.name}: "
        with open(self.log_path, "a", encoding="utf-8") as log:
            for raw in iter(stream.readline, b""):
                line = raw.decode(errors="replace").rstrip()
                self.tail.append(line)
                _, found, said = line.partition(marker)
                if found:
                    self.last_said = said
                log.write(line + "\n")
                log.flush()
                with contextlib.suppress(OSError):  # a terminal gone: the log file has it
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


@dataclass
class Supervisor:
    """Restarts what exits, with a delay doubling from `delay_s` up to `delay_max_s`."""

    env: dict[str, str]
    metrics: RunnerMetrics
    delay_s: float
    delay_max_s: float

    def restart_if_exited(self, child: Child) -> None:
        """Schedule and make restarts of a child that exited."""
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                say(f"{child.name}: starting again")
                child.start(self.env)
                self.metrics.restarts.labels(child.name).inc()
            return
        code = child.exit_code()
        if code is None:
            return
        self.metrics.up.labels(child.name).set(0)
        if now - child.started_at >= STABLE_AFTER_S and child.answered:
            child.failures_in_a_row = 0
        child.failures_in_a_row += 1
        if not child.ever_answered and child.failures_in_a_row >= STARTUP_ATTEMPTS:
            last = "\n    ".join(list(child.tail)[-8:]) or "(it printed nothing)"
            raise CannotStart(
                f"{child.name} exited {child.failures_in_a_row} times in a row (last exit code"
                f" {code}) before it ever answered on {child.url}. Its last lines (all of its"
                f" output is in {child.log_path}):\n    {last}"
            )
        delay = min(self.delay_s * 2.0 ** (child.failures_in_a_row - 1), self.delay_max_s)
        say(
            f"{child.name} exited with {_exit_status(code)} (exit {child.failures_in_a_row} in a"
            f" row); next attempt in {delay:.3g} s. The other services keep running and its"
            f" events wait in the broker until it is back. Its output: {child.log_path}"
        )
        child.answered = False
        child.restart_at = now + delay

    def note_answering(self, child: Child) -> bool:
        """True when the child has just answered for the first time since it was started."""
        if child.answered or child.exit_code() is not None or not child.probe():
            return False
        child.answered = True
        self.metrics.up.labels(child.name).set(1)
        return True


def _exit_status(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"code {code}"


def _children(settings: Settings, ports: dict[str, int], logs: Path) -> list[Child]:
    exe = [sys.executable, "-m", "labourx.cli"]
    return [
        Child(
            name,
            [*exe, "run", name, "--port", str(port), "--provision"],
            f"http://127.0.0.1:{port}",
            logs / f"{name}.log",
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


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_dev(
    settings: Settings, ports: dict[str, int], *, data_dir: Path, port_offset: int = 0
) -> int:
    """Start everything and block until SIGINT/SIGTERM/SIGHUP, then stop it all; the exit
    status. Everything started is stopped on every way out, an exception included."""
    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in STOP_SIGNALS}
    try:
        return _run(settings, ports, data_dir, port_offset, stopping)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(
    settings: Settings,
    ports: dict[str, int],
    data_dir: Path,
    port_offset: int,
    stopping: threading.Event,
) -> int:
    ports = {name: port + port_offset for name, port in ports.items()}
    broker_port = 9092 + port_offset if port_offset >= 0 else free_port()
    if not _ports_free(settings, ports, port_offset, broker_port):
        return 1
    env = _child_environment()
    started = time.monotonic()
    # Each thing started registers its stop before it starts (a half-started PostgreSQL is
    # stopped too); they run in reverse order, each even when one before it failed.
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(say, "labourx stopped")
        overrides: dict[str, object] = {}
        broker: TansuBroker | None = None
        if not settings.database_url:
            overrides["database_url"] = _start_postgres(data_dir, cleanup)
        if stopping.is_set():
            return 0
        if not settings.kafka_bootstrap_servers:
            broker, overrides["kafka_bootstrap_servers"] = _start_broker(
                broker_port, data_dir, cleanup
            )
        if stopping.is_set():
            return 0
        settings = settings.model_copy(update=overrides)
        _point_children_at(env, settings, ports)

        metrics = RunnerMetrics()
        metrics_url = f"http://127.0.0.1:{METRICS_PORT + port_offset}/metrics"
        cleanup.callback(metrics.serve(METRICS_PORT + port_offset))
        supervisor = Supervisor(
            env, metrics, settings.dev_restart_delay_s, settings.dev_restart_delay_max_s
        )
        logs = data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        children = _children(settings, ports, logs)
        cleanup.callback(_stop_all, children)
        for child in children:
            child.log_path.write_text("")  # this run's output only
            child.start(env)
        say(f"starting {', '.join(c.name for c in children)} (each migrates its own database)")
        try:
            if not _wait_until_answering(children, supervisor, stopping):
                return 0
        except CannotStart as exc:
            say(f"\nlabourx could not start: {exc}")
            return 1
        _say_running(children, time.monotonic() - started, logs, metrics_url)
        _supervise(children, supervisor, stopping, broker)
        return 0
    raise AssertionError("unreachable")  # for mypy: the with block returns on every path


def _ports_free(
    settings: Settings, ports: dict[str, int], port_offset: int, broker_port: int
) -> bool:
    """Whether every port this run would serve on is free; says which are taken when not."""
    wanted = {**ports, "the runner's metrics": METRICS_PORT + port_offset}
    if not settings.kafka_bootstrap_servers:
        wanted["the development broker"] = broker_port
    if taken := [f"{name} ({port})" for name, port in wanted.items() if _taken(port)]:
        say(
            f"cannot start: port(s) already in use: {', '.join(taken)}. Is labourx already"
            " running? Stop it, or run side by side with --port-offset."
        )
        return False
    return True


def _child_environment() -> dict[str, str]:
    """The environment the services start with: this one, with development defaults."""
    env = dict(os.environ)
    # Readable lines at a terminal unless the caller asked for JSON.
    env.setdefault("LABOURX_LOG_FORMAT", "text")
    # An idle laptop, not a cluster: consumers ask the development broker for records every 5 s
    # (it answers at once when one arrives) and send heartbeats every 2 s (a third of the 6 s
    # session: fewer would risk expelling a live member); with production's 1 s each, the
    # broker alone took more than 1% of a core doing nothing (bench figure 9).
    env.setdefault("LABOURX_CONSUMER_FETCH_MAX_WAIT_MS", "5000")
    env.setdefault("LABOURX_CONSUMER_HEARTBEAT_INTERVAL_MS", "2000")
    return env


def _start_postgres(data_dir: Path, cleanup: contextlib.ExitStack) -> str:
    """Start the embedded PostgreSQL (its stop registered first); its server URL."""
    postgres = EmbeddedPostgres(data_dir / "postgres")
    cleanup.callback(_stop_postgres, postgres)
    say(f"starting the embedded PostgreSQL (data kept in {postgres.data_dir})")
    return postgres.start(on_wait=say)


def _start_broker(
    port: int, data_dir: Path, cleanup: contextlib.ExitStack
) -> tuple[TansuBroker, str]:
    """Start the development broker (its stop registered first); it and its bootstrap servers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    broker = TansuBroker(port=port, log_path=data_dir / "tansu.log")
    cleanup.callback(_stop_broker, broker)
    bootstrap_servers = broker.start()
    say(
        f"started the Tansu broker on {broker.bootstrap_servers}. It keeps events in"
        " memory only: stopping labourx loses the events not yet consumed; a service"
        " that crashes loses none (the broker keeps them until it is back). Fine for"
        " development; production uses Apache Kafka"
    )
    return broker, bootstrap_servers


def _point_children_at(env: dict[str, str], settings: Settings, ports: dict[str, int]) -> None:
    """Tell the services where the database and broker are, and the console where they are."""
    env["LABOURX_DATABASE_URL"] = str(settings.database_url)
    env["LABOURX_KAFKA_BOOTSTRAP_SERVERS"] = settings.bootstrap_servers
    # The console reaches each service where this run serves it (ports move with
    # --port-offset), unless told otherwise.
    for name, port in ports.items():
        if name != "console":
            env.setdefault(f"LABOURX_CONSOLE_{name.upper()}_URL", f"http://127.0.0.1:{port}")
    # The consumers fetch person keys from registry's API (shared/sealing_consumer.py).
    env.setdefault("LABOURX_REGISTRY_URL", f"http://127.0.0.1:{ports['registry']}")


def _say_running(children: list[Child], took_s: float, logs: Path, metrics_url: str) -> None:
    say(f"\nlabourx is running ({took_s:.0f} s to start):")
    for child in children:
        say(f"  {child.name:<14} {child.url}")
    say(
        "  Open the console in a browser; the services' API documentation is at <URL>/docs."
        f" Each service's output is also in {logs}/; restarts are counted at"
        f" {metrics_url}. Ctrl-C stops everything (and loses the events not yet consumed:"
        " the development broker keeps them in memory only).\n"
    )


def _wait_until_answering(
    children: list[Child], supervisor: Supervisor, stopping: threading.Event
) -> bool:
    """Wait until every API answers, saying every few seconds which are still starting and
    what they are doing. False when stopped first; CannotStart when one cannot start."""
    next_report = time.monotonic() + PROGRESS_EVERY_S
    while not stopping.is_set():
        for child in children:
            supervisor.restart_if_exited(child)
            if supervisor.note_answering(child):
                child.ever_answered = True
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


def _supervise(
    children: list[Child],
    supervisor: Supervisor,
    stopping: threading.Event,
    broker: TansuBroker | None,
) -> None:
    """Until stopped: restart what dies (never stopping the rest), note when it answers again."""
    broker_reported = False
    while not stopping.wait(0.5):
        for child in children:
            supervisor.restart_if_exited(child)
            if supervisor.note_answering(child):
                child.ever_answered = True
                say(f"{child.name} answers again on {child.url}")
        if broker is None or broker.process is None or broker_reported:
            continue
        if (code := broker.process.poll()) is not None:
            broker_reported = True
            say(
                f"the development broker exited with {_exit_status(code)} (its log:"
                f" {broker.log_path}): the events it held are lost, and services can"
                " neither publish nor consume until labourx is started again (the outbox"
                " keeps what was not yet sent). Ctrl-C, then make run."
            )


def _stop_postgres(postgres: EmbeddedPostgres) -> None:
    say("stopping the embedded PostgreSQL")
    postgres.stop()


def _stop_broker(broker: TansuBroker) -> None:
    say("stopping the development broker (events not yet consumed are lost)")
    broker.stop()


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
