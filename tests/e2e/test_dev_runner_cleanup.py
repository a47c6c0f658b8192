"""`labourx dev` stops everything it started on every way out, not only on a quiet Ctrl-C.

Issue 17 found the embedded PostgreSQL left running after the runner gave up. Each test here
ends the runner another way (the terminal's Ctrl-C reaching every process, or the terminal
closed, while the services are still starting; an error in the runner itself; a start that
fails) and then looks for every process it had started, by pid: the services, Tansu, the
postmaster and each of its children.
"""

from __future__ import annotations

import fcntl
import os
import pty
import random
import select
import signal
import subprocess
import sys
import termios
import threading
import time
from typing import TYPE_CHECKING

import psutil
import pytest

from shared import devrun
from shared.settings import Settings
from tests.e2e.test_dev_runner import LAUNCHED_GROUPS, DevRunner, _alive, _postmaster
from tests.support import REPO, postgres_data_dir

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

pytestmark = pytest.mark.slow

START_DEADLINE_S = 240


def _postgres_processes(data: Path) -> list[psutil.Process]:
    postmaster = _postmaster(data)
    assert postmaster is not None, "no PostgreSQL runs in this data folder"
    return [postmaster, *postmaster.children(recursive=True)]


def _left(processes: list[psutil.Process]) -> list[int]:
    return [p.pid for p in processes if _alive(p)]


def _children_of_this_process(since: Sequence[psutil.Process] = ()) -> list[psutil.Process]:
    """The processes this process started itself, but those in `since`, with their descendants:
    what the runner under test started in it. The session's own servers (its broker,
    PostgreSQL, a browser driver, the OpenID provider) are children of the test process too and
    rightly outlive the runner; and their new children are not the runner's either (the session
    PostgreSQL forks a backend for each connection the session's other tests keep), so only
    direct children are compared with `since`."""
    earlier = {(p.pid, p.create_time()) for p in since}
    started = [
        p
        for p in psutil.Process().children(recursive=False)
        if _alive(p) and (p.pid, p.create_time()) not in earlier
    ]
    return [*started, *(d for p in started for d in _descendants(p) if _alive(d))]


def _descendants(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _running_tansu(processes: list[psutil.Process]) -> bool:
    return any("tansu" in p.name() for p in processes if _alive(p))


@pytest.fixture
def data() -> Iterator[Path]:
    with postgres_data_dir("dev-cleanup") as folder:
        yield folder
        leftover = _postmaster(folder)
        if leftover is not None and str(folder) in " ".join(leftover.cmdline()):
            leftover.kill()


def test_ctrl_c_while_services_start_leaves_nothing_running(data: Path, tmp_path: Path) -> None:
    dev = DevRunner(data, tmp_path / "dev.log")
    dev.launch()
    assert dev.process is not None
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while "each migrates its own database" not in dev.output():
            assert dev.process.poll() is None, dev.output()
            assert time.monotonic() < deadline, f"services not started yet:\n{dev.output()}"
            time.sleep(0.1)
        runner = psutil.Process(dev.process.pid)
        started = [*runner.children(recursive=True), *_postgres_processes(data)]
        assert len([p for p in started if "labourx.cli" in " ".join(p.cmdline())]) == 5
        # The terminal signals the whole foreground group: the runner and every service.
        os.killpg(dev.process.pid, signal.SIGINT)
        assert dev.process.wait(120) == 0, dev.output()
    finally:
        if dev.process.poll() is None:
            dev.process.kill()
    assert "labourx stopped" in dev.output()
    assert not _left(started), f"left behind:\n{dev.output()}"


def _take_terminal() -> None:
    """In the child: make the pseudo-terminal on stdin its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_a_terminal_that_hangs_up_while_services_start_leaves_nothing_running(
    data: Path, tmp_path: Path
) -> None:
    """The window `make run` runs in is closed: the runner and the services get SIGHUP, and
    every write to the terminal fails from then on, the runner's messages while it stops too."""
    dev = DevRunner(data, tmp_path / "dev.log")
    terminal, runner_side = pty.openpty()
    process = subprocess.Popen(
        dev.argv(),
        cwd=REPO,
        env=dev.env,
        stdin=runner_side,
        stdout=runner_side,
        stderr=runner_side,
        start_new_session=True,
        preexec_fn=_take_terminal,
    )
    LAUNCHED_GROUPS.append(process.pid)
    os.close(runner_side)
    shown = bytearray()
    hang_up = threading.Event()

    def show() -> None:
        """The terminal's window: reads all the runner writes, until it is closed."""
        while not hang_up.is_set():
            if select.select([terminal], [], [], 0.1)[0]:
                try:
                    chunk = os.read(terminal, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                shown.extend(chunk)
        os.close(terminal)  # the kernel hangs the terminal up: SIGHUP to its foreground group

    window = threading.Thread(target=show)
    window.start()
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while b"each migrates its own database" not in shown:
            assert process.poll() is None, shown.decode(errors="replace")
            assert time.monotonic() < deadline, shown.decode(errors="replace")
            time.sleep(0.1)
        started = [*psutil.Process(process.pid).children(recursive=True)]
        started += _postgres_processes(data)
        hang_up.set()
        window.join()
        assert process.wait(120) == 0
    finally:
        hang_up.set()
        if process.poll() is None:
            process.kill()
    logs = "\n".join(f.read_text() for f in sorted((data / "logs").glob("*.log")))
    assert not _left(started), f"left behind; the services' output:\n{logs}"


def _settings() -> Settings:
    """No servers configured, as on a bare laptop: the runner starts its own."""
    return Settings(
        database_url=None,
        kafka_bootstrap_servers=None,
        dev_restart_delay_s=0.1,
        dev_restart_delay_max_s=0.2,
    )


PORTS = {"console": 8100, "registry": 8101}


def _offset() -> int:
    """Every port moved (the broker's and the runner's metrics too), as another run would."""
    return random.randrange(1000, 5000, 10)


def test_an_error_in_the_runner_itself_stops_postgres_and_the_broker(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[psutil.Process] = []
    before = _children_of_this_process()

    def failing(*_: object) -> list[devrun.Child]:
        # PostgreSQL and the broker run by now; the runner then meets a bug of its own.
        started.extend([*_children_of_this_process(since=before), *_postgres_processes(data)])
        assert _running_tansu(started)
        raise RuntimeError("a bug in the runner")

    monkeypatch.setattr(devrun, "_children", failing)
    with pytest.raises(RuntimeError, match="a bug in the runner"):
        devrun.run_dev(_settings(), PORTS, data_dir=data, port_offset=_offset())
    assert not _left(started)


def test_a_start_that_fails_stops_postgres_and_the_broker(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[psutil.Process] = []
    before = _children_of_this_process()
    real_children = devrun._children

    def never_answering(
        settings: Settings, ports: dict[str, int], logs: Path
    ) -> list[devrun.Child]:
        started.extend([*_children_of_this_process(since=before), *_postgres_processes(data)])
        assert _running_tansu(started)
        children = real_children(settings, ports, logs)
        for child in children:  # a service that exits at once, every time
            child.argv = [sys.executable, "-c", "print('no luck'); raise SystemExit(3)"]
        return children

    monkeypatch.setattr(devrun, "_children", never_answering)
    assert devrun.run_dev(_settings(), PORTS, data_dir=data, port_offset=_offset()) == 1
    output = capsys.readouterr().out
    assert "labourx could not start" in output, output
    assert "no luck" in output, output
    assert "labourx stopped" in output
    assert not _left(started)
