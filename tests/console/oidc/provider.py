"""A real OpenID provider for the tests: panva's certified `oidc-provider`, run by Node.js from
the test-only project tests/tools/oidc-provider (its package-lock.json pins every package).

Installed with `npm ci` into a cache folder named by the lock file's hash, once per machine
(or again when the lock changes); started per test session on a port the system picks.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.support import REPO

if TYPE_CHECKING:
    from collections.abc import Iterator

PROJECT = REPO / "tests" / "tools" / "oidc-provider"
CACHE = REPO / ".labourx" / "cache"
# How long a start may take before the test gives up: the provider starts in well under a
# second on a quiet machine; the bound is for one that is stuck, kept below pytest's own
# timeout (300 s) so that the reason reaches the report. While it waits the process is
# watched: one that exits fails at once, with its log.
START_TIMEOUT_S = 240.0
INSTALL_TIMEOUT_S = 600.0


def installed() -> Path:
    """The project installed (`npm ci`) in the cache, installing it when missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    needed = (
        "Node.js and npm are needed to run the OpenID provider these tests sign in with"
        " (Debian: apt-get install nodejs npm)"
    )
    assert node, needed
    assert npm, needed
    lock = (PROJECT / "package-lock.json").read_bytes()
    home = CACHE / f"oidc-provider-{hashlib.sha256(lock).hexdigest()[:16]}"
    home.mkdir(parents=True, exist_ok=True)
    # One installer at a time (parallel test runs share the cache).
    with open(home / ".lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (home / "node_modules" / "oidc-provider" / "package.json").exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(PROJECT / name, home / name)
            done = subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                cwd=home,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT_S,
            )
            assert done.returncode == 0, f"npm ci failed in {home}:\n{done.stdout}\n{done.stderr}"
    # The script is copied on every start (cheap), so an edit to it needs no new install; it
    # must sit beside node_modules for Node to resolve `oidc-provider`.
    shutil.copyfile(PROJECT / "provider.mjs", home / "provider.mjs")
    return home


@dataclass(frozen=True)
class RunningProvider:
    issuer: str
    log: Path

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"


@contextmanager
def running_provider(config: dict[str, Any], workdir: Path) -> Iterator[RunningProvider]:
    """`node provider.mjs` with `config` (see the script); stopped when the block ends."""
    home = installed()
    config_file = workdir / "oidc-provider.json"
    # The signing key is made here, by the test's own process, rather than by Node at its
    # start: one step fewer for a start on a loaded machine, and Python's RNG is seeded already.
    key = RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048), as_dict=True)
    key.pop("key_ops")  # ["sign"]: published with the public half, verifiers would refuse it
    config_file.write_text(json.dumps({**config, "signingKey": key}))
    log = workdir / "oidc-provider.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            ["node", str(home / "provider.mjs"), str(config_file)],
            cwd=home,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        issuer = _announced_issuer(process, log)
        _wait_for_discovery(process, issuer, log)
        yield RunningProvider(issuer, log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def _announced_issuer(process: subprocess.Popen[bytes], log: Path) -> str:
    """The issuer the provider prints once listening. Read in a thread while this one watches
    the process: a provider that exits fails at once, one that prints nothing fails at the
    deadline with its log and what the kernel says it is doing, instead of hanging the test."""
    line: list[bytes] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while reader.is_alive() and process.poll() is None and time.monotonic() < deadline:
        reader.join(1.0)
    reader.join(1.0)  # an exit right after printing: its line is read by now
    announced = line[0] if line else b""  # no line, or an empty one at end of output
    assert announced, (
        f"the OpenID provider did not announce its address (waited"
        f" {START_TIMEOUT_S - max(0.0, deadline - time.monotonic()):.0f} s; exit code"
        f" {process.poll()}; {_process_state(process.pid)}); its log:\n"
        f"{log.read_text(errors='replace')}"
    )
    issuer: str = json.loads(announced)["issuer"]
    return issuer


def _process_state(pid: int) -> str:
    """What Linux says the process is doing (its state, the kernel function it waits in, its
    CPU time so far): a process that is runnable and busy is slow, one asleep is stuck."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        wchan = Path(f"/proc/{pid}/wchan").read_text().strip() or "-"
    except OSError:
        return "no longer running"
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return f"state {fields[0]}, waiting in {wchan}, {cpu:.1f} s of CPU"


def _wait_for_discovery(process: subprocess.Popen[bytes], issuer: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    url = f"{issuer}/.well-known/openid-configuration"
    while True:
        assert process.poll() is None, (
            f"the OpenID provider exited with {process.returncode}:\n{log.read_text()}"
        )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, (
            f"the OpenID provider at {issuer} did not serve its discovery document in"
            f" {START_TIMEOUT_S:.0f} s; its log:\n{log.read_text(errors='replace')}"
        )
        time.sleep(0.1)
