"""`labourx dev` with one service crashing again and again, faster than any restart window.

Before issue 17 the runner stopped everything when a process died six times within 60 s, and
with it the development broker, which keeps events in memory only: the welcome messages of
registrations not yet consumed were lost for good. Here matching is killed the moment each new
process of it appears, eight times in about ten seconds, while officers keep registering people:
the rest keeps serving and consuming, matching catches up once it is left alone, and every
registration reaches both notify (a welcome) and matching (a candidate), counted in SQL. Then
Ctrl-C stops every process the runner started, PostgreSQL's included.
"""

from __future__ import annotations

import asyncio
import re
import signal
import threading
import time
import uuid
from typing import TYPE_CHECKING

import httpx
import psutil
import pytest

from shared.settings import Settings
from tests.e2e.test_dev_runner import SERVICES, DevRunner, _alive, _auth, _postmaster
from tests.support import SMS_CONSENT, fetchval, jobseeker, postgres_data_dir

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

KILLS = 8
# Restart delays 0.25, 0.5, 1, 2, 2, 2 ... s: the crash loop of production's defaults (1 s up to
# a minute), squeezed into seconds.
FAST_RESTARTS = {"LABOURX_DEV_RESTART_DELAY_S": "0.25", "LABOURX_DEV_RESTART_DELAY_MAX_S": "2"}
# Generous: on a loaded two-core machine a service takes tens of seconds to start.
CATCH_UP_DEADLINE_S = 150


def _service_pid(runner: psutil.Process, name: str) -> int | None:
    for child in runner.children():
        try:
            if " ".join(child.cmdline()[-5:]).startswith(f"run {name} "):
                return child.pid
        except psutil.Error:
            continue
    return None


def _crash_loop(runner: psutil.Process, name: str, kills: list[int], done: threading.Event) -> None:
    """Kill each new process of the service as soon as it appears, KILLS times."""
    try:
        deadline = time.monotonic() + CATCH_UP_DEADLINE_S
        while len(kills) < KILLS and time.monotonic() < deadline:
            pid = _service_pid(runner, name)
            if pid is None or pid in kills:
                time.sleep(0.02)
                continue
            psutil.Process(pid).kill()
            psutil.Process(pid).wait(30)
            kills.append(pid)
    finally:
        done.set()


def _count(settings: Settings, service: str, query: str, ids: list[uuid.UUID]) -> int:
    return int(asyncio.run(fetchval(settings, service, query, ids)))


WELCOMES = "SELECT count(*) FROM messages WHERE template_key = 'welcome' AND person_id = ANY($1)"
CANDIDATES = "SELECT count(*) FROM candidates WHERE person_id = ANY($1)"


def test_a_service_crashing_in_a_loop_stops_nothing_else_and_loses_no_event(
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    with postgres_data_dir("dev-crash-loop") as data:
        dev = DevRunner(data, tmp_path / "dev.log", env=FAST_RESTARTS)
        try:
            urls = dev.start()
            started_s = time.monotonic() - began
            assert dev.process is not None
            runner = psutil.Process(dev.process.pid)
            others = {name: _service_pid(runner, name) for name in SERVICES if name != "matching"}
            registry = psutil.Process(others["registry"])
            settings = Settings(database_url=registry.environ()["LABOURX_DATABASE_URL"])
            officer = _auth(
                subject="officer", roles=["esc_staff"], office="ESC-VT", province="LA-VT"
            )

            # Officers keep registering people all through the crash loop.
            kills: list[int] = []
            done = threading.Event()
            killer = threading.Thread(target=_crash_loop, args=(runner, "matching", kills, done))
            loop_began = time.monotonic()
            killer.start()
            ids: list[uuid.UUID] = []
            with httpx.Client(base_url=urls["registry"], headers=officer, timeout=60) as client:
                while not done.is_set():
                    created = client.post("/v1/jobseekers", json=jobseeker(consents=SMS_CONSENT))
                    assert created.status_code == 201, created.text
                    ids.append(uuid.UUID(created.json()["id"]))
                    done.wait(0.2)
            killer.join()
            loop_s = time.monotonic() - loop_began
            assert len(kills) == KILLS, f"matching was killed {len(kills)} times:\n{dev.output()}"
            welcomed_during_loop = _count(settings, "notify", WELCOMES, ids)

            # Nothing else was stopped or restarted, and the runner did not give up.
            assert dev.process.poll() is None, dev.output()
            assert {name: _service_pid(runner, name) for name in others} == others
            output = dev.output()
            assert "next attempt in 2 s" in output, "the delay doubles up to its cap"
            assert f"Its output: {data / 'logs' / 'matching.log'}" in output
            assert "exited with signal SIGKILL (exit 8 in a row)" in output

            # Matching comes back by itself and catches up with what waited in the broker.
            deadline = time.monotonic() + CATCH_UP_DEADLINE_S
            while (
                (welcomed := _count(settings, "notify", WELCOMES, ids)) < len(ids)
                or (candidates := _count(settings, "matching", CANDIDATES, ids)) < len(ids)
                or "matching answers again" not in dev.output()
            ):
                assert time.monotonic() < deadline, (
                    f"after {CATCH_UP_DEADLINE_S} s, {len(ids)} registered, welcomed"
                    f" {welcomed}, matching candidates {candidates}:\n{dev.output()}"
                )
                time.sleep(0.5)
            caught_up_s = time.monotonic() - loop_began - loop_s

            metrics = httpx.get(_metrics_url(output), timeout=30).text
            assert f'labourx_dev_restarts_total{{service="matching"}} {KILLS}.0' in metrics
            assert 'labourx_dev_service_up{service="matching"} 1.0' in metrics

            # Ctrl-C: every process the runner started is gone, PostgreSQL's included.
            postmaster = _postmaster(data)
            assert postmaster is not None
            started = [
                *runner.children(recursive=True),
                postmaster,
                *postmaster.children(recursive=True),
            ]
            assert dev.stop(signal.SIGINT) == 0
            assert not [f"{p.pid} {p.name()}" for p in started if _alive(p)], "left behind"
            print(
                f"\nstarted in {started_s:.0f} s; {KILLS} kills in {loop_s:.1f} s while"
                f" {len(ids)} people were registered ({welcomed_during_loop} welcomed by then);"
                f" all caught up {caught_up_s:.1f} s later: {len(ids) - welcomed} welcomes and"
                f" {len(ids) - candidates} candidates lost, of {len(ids)};"
                f" {len(started)} processes stopped; {time.monotonic() - began:.0f} s in all"
            )
            assert welcomed_during_loop > 0, "notify kept consuming during the crash loop"
        finally:
            if dev.process is not None and dev.process.poll() is None:
                dev.stop(signal.SIGKILL)
            leftover = _postmaster(data)
            if leftover is not None and str(data) in " ".join(leftover.cmdline()):
                leftover.kill()


def _metrics_url(output: str) -> str:
    found = re.search(r"restarts are counted at (http://\S+/metrics)", output)
    assert found, output
    return found.group(1)
