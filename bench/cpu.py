"""CPU time used by each process of a phase: on a 2-core machine, who used the cores matters.

A process is counted with its children (PostgreSQL's backends are children of the postmaster),
except children that are measured under a name of their own (the broker started by this
process). A child that exits during the window takes its CPU time with it, so PostgreSQL is
measured while its connection pools are held open. Whatever else ran on the machine meanwhile is
reported as "rest of machine", with the busiest of those processes by name.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import psutil


def _tree(pid: int) -> dict[int, float]:
    """CPU seconds of `pid` and every descendant, by pid."""
    times: dict[int, float] = {}
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                t = process.cpu_times()
                times[process.pid] = t.user + t.system
    return times


def _owned(pids: dict[str, int]) -> dict[str, dict[int, float]]:
    """Each process under the innermost measured tree that contains it."""
    trees = {name: _tree(pid) for name, pid in pids.items()}
    owner: dict[int, str] = {}
    for name in sorted(trees, key=lambda n: -len(trees[n])):  # inner trees are smaller: last
        for pid in trees[name]:
            owner[pid] = name
    return {
        name: {p: t for p, t in tree.items() if owner[p] == name} for name, tree in trees.items()
    }


def _label(process: psutil.Process) -> str:
    """A readable name: `pytest`, `python -m some.module`, `postgres`..."""
    name = process.info["name"] or "?"
    argv = process.info["cmdline"] or []
    if name.startswith("python") and len(argv) > 1:
        if "-m" in argv[:-1]:
            return f"python -m {argv[argv.index('-m') + 1]}"
        return Path(argv[1]).name
    return str(name)


def _everyone() -> dict[int, tuple[str, float]]:
    found: dict[int, tuple[str, float]] = {}
    for process in psutil.process_iter(["name", "cmdline", "cpu_times"]):
        times = process.info["cpu_times"]
        if times is not None:
            found[process.pid] = (_label(process), times.user + times.system)
    return found


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, since boot)."""
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0))


class CpuMeter:
    """CPU seconds of named process trees between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = {name: pid for name, pid in pids.items() if pid is not None}
        self._before: dict[str, dict[int, float]] = {}
        self._everyone_before: dict[int, tuple[str, float]] = {}
        self._machine_before = 0.0
        self._started = 0.0
        self.seconds: dict[str, float] = {}
        self.machine_s = 0.0
        self.wall_s = 0.0
        self.others_by_name: dict[str, float] = {}

    def start(self) -> CpuMeter:
        self._before = _owned(self.pids)
        self._everyone_before = _everyone()
        self._machine_before = _machine_busy()
        self._started = time.perf_counter()
        return self

    def stop(self) -> dict[str, float]:
        self.wall_s = time.perf_counter() - self._started
        self.machine_s = _machine_busy() - self._machine_before
        after = _owned(self.pids)
        ours = set(_tree(os.getpid()))  # this process and every child it started
        for name, tree in after.items():
            before = self._before.get(name, {})
            self.seconds[name] = sum(t - before.get(p, 0.0) for p, t in tree.items())
            ours |= tree.keys()
        others: dict[str, float] = {}
        for pid, (label, seconds) in _everyone().items():
            if pid not in ours:
                used = seconds - self._everyone_before.get(pid, (label, 0.0))[1]
                others[label] = others.get(label, 0.0) + used
        self.others_by_name = {
            label: round(seconds / self.wall_s, 2)
            for label, seconds in sorted(others.items(), key=lambda kv: -kv[1])[:4]
            if seconds / self.wall_s >= 0.02
        }
        return self.seconds

    def others_s(self, *also_ours: float) -> float:
        """CPU seconds used by processes outside this benchmark (another job on the machine)."""
        return max(self.machine_s - sum(self.seconds.values()) - sum(also_ours), 0.0)

    def shares(self) -> dict[str, float]:
        """Average cores used by each tree over the window (1.0 = one core flat out)."""
        return {name: round(s / self.wall_s, 2) for name, s in self.seconds.items() if self.wall_s}
