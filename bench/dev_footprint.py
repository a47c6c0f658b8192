"""Figure 9: what `make run` costs an office machine (issue 14, point 2).

`labourx dev` is started exactly as `make run` starts it, with no servers configured (so with
its own embedded PostgreSQL and Tansu broker) in an empty data directory, and timed until it
prints that labourx is running: the cold start, migrations and topics included. It is then
left idle, and every process of the system is measured over a window: memory (RSS, and PSS,
which shares out pages several processes map) and CPU time. A second start on the same data
is the warm start.

The reference, in the same run on the same machine, is the same four services laid out as
production runs them: an API, a relay, each consumer group and the jobs of each service as
processes of their own (15), over their own embedded PostgreSQL and Tansu, measured the same
way; and the same layout once more with the settings `make run` had before issue 14 (consumers
asking the broker every 20 ms, relays polling every second), for the idle CPU that cost. Its
relay processes give the relay figure, against the floor of any relay: a Python process
holding the same clients (asyncpg, aiokafka, prometheus_client) and doing nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psutil

from bench import report
from bench.environment import REPO, Environment
from bench.tree import CLI_MODULE, SERVICES
from shared.infra import EmbeddedPostgres, TansuBroker, free_port

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

SETTLE_S = 15.0  # after everything answers: consumers join their groups, first job passes run
WINDOW_S = 30.0  # idle CPU is measured over this long

TARGET_RSS_MB = 1024
TARGET_CPU_SHARE = 0.05
TARGET_RELAY_MB = 80
TARGET_COLD_START_S = 20.0


def _clean_env() -> dict[str, str]:
    """The environment `make run` gives it: no servers configured, nothing of the bench's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LABOURX_")}


def _postmaster(data_dir: Path) -> psutil.Process | None:
    try:
        return psutil.Process(int((data_dir / "postmaster.pid").read_text().split()[0]))
    except (OSError, ValueError, psutil.Error):
        return None


def _tree(root: psutil.Process | None) -> list[psutil.Process]:
    if root is None:
        return []
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _label(process: psutil.Process) -> str:
    argv = process.cmdline()
    if CLI_MODULE in argv:
        return " ".join(argv[argv.index(CLI_MODULE) + 1 :][:3])
    if argv and argv[0].endswith("labourx"):
        return "labourx " + " ".join(argv[1:2])
    return process.name()


def measure(processes: Iterable[psutil.Process], window_s: float) -> dict[str, Any]:
    """Memory at the end of the window and CPU share over it, per process and in total."""
    procs = list(processes)
    before = {}
    for p in procs:
        try:
            t = p.cpu_times()
            before[p.pid] = t.user + t.system
        except psutil.Error:
            continue
    time.sleep(window_s)
    rows = []
    for p in procs:
        try:
            t = p.cpu_times()
            memory = p.memory_full_info()
            rows.append(
                {
                    "process": _label(p),
                    "rss_mb": round(memory.rss / 2**20, 1),
                    "pss_mb": round(memory.pss / 2**20, 1),
                    "cpu_share": (t.user + t.system - before.get(p.pid, 0.0)) / window_s,
                }
            )
        except psutil.Error:
            continue
    postgres = [r for r in rows if r["process"] == "postgres"]
    others = [r for r in rows if r["process"] != "postgres"]
    if postgres:
        others.append(
            {
                "process": f"postgres ({len(postgres)} processes)",
                "rss_mb": round(sum(r["rss_mb"] for r in postgres), 1),
                "pss_mb": round(sum(r["pss_mb"] for r in postgres), 1),
                "cpu_share": sum(r["cpu_share"] for r in postgres),
            }
        )
    for r in others:
        r["cpu_share"] = round(r["cpu_share"], 4)
    return {
        "processes": others,
        "python_processes": sum(1 for r in rows if r["process"] not in {"postgres"})
        - sum(1 for r in rows if r["process"].startswith("tansu")),
        "postgres_processes": len(postgres),
        "rss_mb": round(sum(r["rss_mb"] for r in rows), 1),
        "pss_mb": round(sum(r["pss_mb"] for r in rows), 1),
        "cpu_share": round(sum(r["cpu_share"] for r in rows), 4),
        "window_s": window_s,
    }


class DevRun:
    """`labourx dev` as `make run` starts it, in its own data directory and ports."""

    def __init__(self, data_dir: Path, log: Path, port_offset: int) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port_offset = port_offset
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Seconds until it says labourx is running."""
        seen = self.log.stat().st_size if self.log.exists() else 0
        started = time.monotonic()
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    CLI_MODULE,
                    "dev",
                    "--data-dir",
                    str(self.data_dir),
                    "--port-offset",
                    str(self.port_offset),
                ],
                cwd=REPO,
                env=_clean_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        while "labourx is running" not in self.log.read_bytes()[seen:].decode(errors="replace"):
            if (code := self.process.poll()) is not None:
                raise RuntimeError(f"labourx dev exited with {code}; see {self.log}")
            time.sleep(0.1)
        return time.monotonic() - started

    def processes(self) -> list[psutil.Process]:
        assert self.process is not None
        return _tree(psutil.Process(self.process.pid)) + _tree(
            _postmaster(self.data_dir / "postgres")
        )

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait()


# What `make run` ran before issue 14: the same 15 processes, consumers asking the broker every
# 20 ms and relays polling every second.
BEFORE = {"LABOURX_CONSUMER_FETCH_MAX_WAIT_MS": "20", "LABOURX_RELAY_POLL_INTERVAL_S": "1"}


def _production_layout(
    work: Path, log_dir: Path, settings: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The 15-process layout over its own PostgreSQL and broker, measured idle."""
    postgres = EmbeddedPostgres(work / "postgres")
    broker = TansuBroker(log_path=log_dir / f"footprint-{work.name}-tansu.log")
    children: list[subprocess.Popen[bytes]] = []
    try:
        env = _clean_env() | {
            "LABOURX_DATABASE_URL": postgres.start(),
            "LABOURX_KAFKA_BOOTSTRAP_SERVERS": broker.start(),
            "LABOURX_LOG_LEVEL": "WARNING",
            **(settings or {}),
        }
        cli = [sys.executable, "-m", CLI_MODULE]
        for command in (["migrate"], ["topics"]):
            subprocess.run([*cli, *command], cwd=REPO, env=env, check=True, capture_output=True)
        ports = {name: free_port() for name in SERVICES}
        argvs: list[list[str]] = []
        for name, spec in SERVICES.items():
            argvs.append([*cli, "api", name, "--port", str(ports[name])])
            argvs.append([*cli, "relay", name])
            argvs += [[*cli, "consume", name, "--group", c.group] for c in spec.consumers]
            if spec.jobs:
                argvs.append([*cli, "jobs", name])
        log = open(log_dir / f"footprint-{work.name}.log", "ab")  # noqa: SIM115
        children = [
            subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
            for argv in argvs
        ]
        for port in ports.values():
            while True:
                if any(c.poll() is not None for c in children):
                    raise RuntimeError(f"a process exited; see footprint-{work.name}.log")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).is_success:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
        time.sleep(SETTLE_S)
        processes = [p for c in children for p in _tree(psutil.Process(c.pid))]
        processes += _tree(psutil.Process(broker.process.pid)) if broker.process else []
        processes += _tree(_postmaster(postgres.data_dir))
        idle = measure(processes, WINDOW_S)
        relays = [r for r in idle["processes"] if r["process"].startswith("relay")]
        return idle, relays
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
        broker.stop()
        postgres.stop()


def _relay_floor() -> float:
    """RSS (MB) of a Python process holding a relay's clients and doing nothing."""
    probe = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import asyncpg, aiokafka, prometheus_client, pydantic_settings, time;"
            " print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert probe.stdout is not None
        probe.stdout.readline()
        return round(psutil.Process(probe.pid).memory_info().rss / 2**20, 1)
    finally:
        probe.kill()
        probe.wait()


def run(env: Environment) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="labourx-footprint-") as tmp:
        work = Path(tmp)
        dev = DevRun(
            work / "dev", env.log_dir / "footprint-dev.log", port_offset=free_port() % 7000
        )
        cold_s = dev.start()
        try:
            time.sleep(SETTLE_S)
            idle = measure(dev.processes(), WINDOW_S)
        finally:
            stopped_with = dev.stop()
        left_running = _postmaster(work / "dev" / "postgres") is not None
        warm_s = dev.start()
        dev.stop()
        reference, relays = _production_layout(work / "reference", env.log_dir)
        before, _ = _production_layout(work / "before", env.log_dir, BEFORE)
    floor = _relay_floor()
    relay_mb = max(r["rss_mb"] for r in relays)
    return {
        "cold_start_s": round(cold_s, 1),
        "warm_start_s": round(warm_s, 1),
        "stopped_with": stopped_with,
        "postgres_left_running": left_running,
        "labourx": idle,
        "reference": reference,
        "rss_ratio": round(idle["rss_mb"] / reference["rss_mb"], 2),
        "pss_ratio": round(idle["pss_mb"] / reference["pss_mb"], 2),
        "cpu_ratio": round(idle["cpu_share"] / reference["cpu_share"], 2)
        if reference["cpu_share"]
        else None,
        "before": before,
        "relay_rss_mb": relay_mb,
        "relay_floor_rss_mb": floor,
        "relay_ratio": round(relay_mb / floor, 2),
    }


def checks(figure: Mapping[str, Any]) -> list[report.Check]:
    idle = figure["labourx"]
    return [
        report.Check(
            "make run idle memory, MB RSS (all processes)",
            idle["rss_mb"],
            f"< {TARGET_RSS_MB}",
            idle["rss_mb"] < TARGET_RSS_MB,
        ),
        report.Check(
            "make run idle CPU, share of one core",
            idle["cpu_share"],
            f"< {TARGET_CPU_SHARE}",
            idle["cpu_share"] < TARGET_CPU_SHARE,
        ),
        report.Check(
            "relay process, MB RSS",
            figure["relay_rss_mb"],
            f"< {TARGET_RELAY_MB}",
            figure["relay_rss_mb"] < TARGET_RELAY_MB,
        ),
        report.Check(
            "cold start to every URL answering, s",
            figure["cold_start_s"],
            f"< {TARGET_COLD_START_S:g}",
            figure["cold_start_s"] < TARGET_COLD_START_S,
        ),
        report.Check(
            "stopped cleanly (exit 0, no PostgreSQL left)",
            float(figure["stopped_with"] == 0 and not figure["postgres_left_running"]),
            "= 1",
            figure["stopped_with"] == 0 and not figure["postgres_left_running"],
        ),
    ]


def render(figure: Mapping[str, Any]) -> str:
    idle, ref = figure["labourx"], figure["reference"]
    rows: list[tuple[str, str, str, str]] = [
        (
            "make run, idle: memory RSS (reference: the 15-process production layout)",
            f"{idle['rss_mb']:,.0f} MB",
            f"{ref['rss_mb']:,.0f} MB",
            f"{figure['rss_ratio']:.2f}",
        ),
        (
            "  memory PSS (shared pages shared out)",
            f"{idle['pss_mb']:,.0f} MB",
            f"{ref['pss_mb']:,.0f} MB",
            f"{figure['pss_ratio']:.2f}",
        ),
        (
            f"  CPU, share of one core over {idle['window_s']:g} s",
            f"{idle['cpu_share']:.3f}",
            f"{ref['cpu_share']:.3f}",
            f"{figure['cpu_ratio']:.2f}" if figure["cpu_ratio"] is not None else "-",
        ),
        (
            "  CPU as make run was before (15 processes, fetch wait 20 ms, relay poll 1 s)",
            f"{idle['cpu_share']:.3f}",
            f"{figure['before']['cpu_share']:.3f}",
            f"{idle['cpu_share'] / figure['before']['cpu_share']:.2f}",
        ),
        (
            "  processes: Python / PostgreSQL",
            f"{idle['python_processes']} / {idle['postgres_processes']}",
            f"{ref['python_processes']} / {ref['postgres_processes']}",
            "",
        ),
        (
            "relay process RSS (reference: asyncpg + aiokafka + prometheus_client, idle)",
            f"{figure['relay_rss_mb']:.0f} MB",
            f"{figure['relay_floor_rss_mb']:.0f} MB",
            f"{figure['relay_ratio']:.2f}",
        ),
        (
            "cold start, empty data directory, to every URL answering",
            f"{figure['cold_start_s']} s",
            "",
            "",
        ),
        ("warm start, same data", f"{figure['warm_start_s']} s", "", ""),
    ]
    for process in sorted(idle["processes"], key=lambda r: -r["rss_mb"]):
        rows.append(
            (
                f"  {process['process']}",
                f"{process['rss_mb']:.0f} MB RSS, {process['pss_mb']:.0f} PSS",
                f"{process['cpu_share']:.3f} core",
                "",
            )
        )
    return report.figure_tables(rows, checks(figure))
