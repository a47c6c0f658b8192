"""A failing end-to-end test leaves no dev runner behind: its services, broker and PostgreSQL
would keep ports, memory and CPU for the rest of the suite (and after it, on a developer's
machine)."""

from __future__ import annotations

import contextlib
import os
import signal
from typing import TYPE_CHECKING

import psutil
import pytest

from tests.e2e.test_dev_runner import LAUNCHED_GROUPS

if TYPE_CHECKING:
    from collections.abc import Iterator

# How long a runner may take to stop what it started once told to (it stops services, the broker
# and PostgreSQL one after the other); past this it is stuck, and its group is killed.
STOP_BOUND_S = 120


@pytest.fixture(autouse=True)
def no_runner_left_behind() -> Iterator[None]:
    """After the test, and after its own checks of what a runner left, stop each runner still
    running the way a terminal would (SIGTERM to its group: the runner then stops its broker and
    PostgreSQL, which run in sessions of their own), wait for it, then SIGKILL whatever of the
    group remains. A runner that already ended is nothing to do."""
    yield
    while LAUNCHED_GROUPS:
        group = LAUNCHED_GROUPS.pop()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGTERM)
        with contextlib.suppress(psutil.Error):
            psutil.Process(group).wait(STOP_BOUND_S)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
