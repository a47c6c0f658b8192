"""The development runner: infrastructure, migrations, topics, then every process, supervised."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.infra import EmbeddedPostgres, TansuBroker, free_port
from shared.provision import prepare_databases, prepare_topics
from shared.service import ServiceSpec
from shared.settings import Settings


@dataclass
class Supervised:
    """One child process and how often it has been restarted."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(self.argv, env=env)

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()


def _process_table(
    specs: list[ServiceSpec], port_offset: int, metrics_base: int
) -> tuple[list[Supervised], dict[str, str]]:
    exe = [sys.executable, "-m", "shared.cli"]
    procs: list[Supervised] = []
    urls: dict[str, str] = {}
    metrics_port = metrics_base
    for spec in specs:
        port = spec.dev_port + port_offset
        urls[spec.name] = f"http://127.0.0.1:{port}"
        procs.append(Supervised(f"{spec.name}-api", [*exe, "api", spec.name, "--port", str(port)]))
        procs.append(
            Supervised(
                f"{spec.name}-relay",
                [*exe, "relay", spec.name, "--metrics-port", str(metrics_port)],
            )
        )
        urls[f"{spec.name}-relay metrics"] = f"http://127.0.0.1:{metrics_port}/metrics"
        metrics_port += 1
        for consumer in spec.consumers:
            procs.append(
                Supervised(
                    f"{spec.name}-consumer-{consumer.group}",
                    [
                        *exe,
                        "consume",
                        spec.name,
                        "--group",
                        consumer.group,
                        "--metrics-port",
                        str(metrics_port),
                    ],
                )
            )
            urls[f"{spec.name}-consumer {consumer.group} metrics"] = (
                f"http://127.0.0.1:{metrics_port}/metrics"
            )
            metrics_port += 1
        if spec.jobs:
            procs.append(
                Supervised(
                    f"{spec.name}-jobs",
                    [*exe, "jobs", spec.name, "--metrics-port", str(metrics_port)],
                )
            )
            urls[f"{spec.name}-jobs metrics"] = f"http://127.0.0.1:{metrics_port}/metrics"
            metrics_port += 1
    return procs, urls


def _wait_healthy(urls: dict[str, str], specs: list[ServiceSpec], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    for spec in specs:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{urls[spec.name]}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{spec.name} did not become healthy")
            time.sleep(0.2)


def run_dev(
    settings: Settings, specs: list[ServiceSpec], *, data_dir: Path, port_offset: int = 0
) -> None:
    """Start everything and block until SIGINT/SIGTERM, then stop it all cleanly."""
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())

    env = dict(os.environ)
    postgres: EmbeddedPostgres | None = None
    broker: TansuBroker | None = None
    procs: list[Supervised] = []
    try:
        overrides: dict[str, object] = {}
        if not settings.database_url:
            postgres = EmbeddedPostgres(data_dir / "postgres")
            overrides["database_url"] = postgres.start()
            print(f"embedded PostgreSQL: data in {postgres.data_dir}", flush=True)
        if not settings.kafka_bootstrap_servers:
            data_dir.mkdir(parents=True, exist_ok=True)
            broker = TansuBroker(
                port=9092 + port_offset if port_offset >= 0 else free_port(),
                log_path=data_dir / "tansu.log",
            )
            overrides["kafka_bootstrap_servers"] = broker.start()
            print(f"Tansu broker (memory only): {broker.bootstrap_servers}", flush=True)
        settings = settings.model_copy(update=overrides)
        env["LABOURX_DATABASE_URL"] = str(settings.database_url)
        env["LABOURX_KAFKA_BOOTSTRAP_SERVERS"] = settings.bootstrap_servers

        asyncio.run(prepare_databases(settings, specs))
        asyncio.run(prepare_topics(settings, specs))
        print("databases migrated, topics created", flush=True)

        procs, urls = _process_table(specs, port_offset, metrics_base=9100 + port_offset)
        for proc in procs:
            proc.start(env)
        _wait_healthy(urls, specs)
        print("\nlabourx is running:", flush=True)
        for name, url in urls.items():
            print(f"  {name:<34} {url}", flush=True)
        print("  API docs: <service URL>/docs    Ctrl-C stops everything\n", flush=True)

        while not stopping.wait(0.5):
            for proc in procs:
                code = proc.exited()
                if code is None:
                    continue
                now = time.monotonic()
                proc.restarts = [t for t in proc.restarts if now - t < 60] + [now]
                if len(proc.restarts) > 5:
                    print(f"{proc.name} keeps failing (exit {code}); stopping", flush=True)
                    stopping.set()
                    break
                print(f"{proc.name} exited with {code}; restarting", flush=True)
                time.sleep(min(0.5 * len(proc.restarts), 3))
                proc.start(env)
    finally:
        _stop_all(procs)
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()
        print("labourx stopped", flush=True)


def _stop_all(procs: list[Supervised], grace_s: float = 15) -> None:
    running = [p.process for p in procs if p.process is not None and p.process.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + grace_s
    for process in running:
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
