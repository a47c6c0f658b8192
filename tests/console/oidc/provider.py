"""A real OpenID provider for the tests: panva's certified `oidc-provider`, run by Node.js from
the test-only project tests/tools/oidc-provider (its package-lock.json pins every package).

Installed with `npm ci` into a cache folder named by the lock file's hash, once per machine
(or again when the lock changes); started per test session on a port the system picks.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support import REPO

PROJECT = REPO / "tests" / "tools" / "oidc-provider"
CACHE = REPO / ".labourx" / "cache"
START_TIMEOUT_S = 60.0
INSTALL_TIMEOUT_S = 600.0


def installed() -> Path:
    """The project installed (`npm ci`) in the cache, installing it when missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, (
        "Node.js and npm are needed to run the OpenID provider these tests sign in with"
        " (Debian: apt-get install nodejs npm)"
    )
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
    config_file.write_text(json.dumps(config))
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
    """The issuer the provider prints once listening; read in a thread, so a provider that
    prints nothing fails the test at the deadline instead of hanging it."""
    line: list[bytes] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT_S)
    assert line and line[0], (
        f"the OpenID provider did not start in {START_TIMEOUT_S:.0f} s (exit code"
        f" {process.poll()}); its log:\n{log.read_text(errors='replace')}"
    )
    issuer: str = json.loads(line[0])["issuer"]
    return issuer


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
