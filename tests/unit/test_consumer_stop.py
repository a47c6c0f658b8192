"""The consumer runner's client stop: aiokafka's own cancellation is not passed on, one aimed
at the runner's task is. (A stand-in client: the library's stop raising CancelledError needs a
fetch timing out at the moment of the stop, which no test can arrange on purpose.)"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from shared.consumer.runner import stop_client


class _Client:
    def __init__(self, raises: BaseException | None = None, hangs: bool = False) -> None:
        self.raises, self.hangs, self.stopped = raises, hangs, False

    async def stop(self) -> None:
        if self.hangs:
            await asyncio.Event().wait()
        self.stopped = True
        if self.raises is not None:
            raise self.raises


def _client(**kwargs: Any) -> Any:
    return cast("Any", _Client(**kwargs))


async def test_the_clients_own_cancellation_ends_the_stop_quietly() -> None:
    client = _client(raises=asyncio.CancelledError())
    await stop_client(client, "notify")  # does not raise
    assert client.stopped


async def test_an_error_of_the_client_ends_the_stop_quietly() -> None:
    await stop_client(_client(raises=RuntimeError("broken")), "notify")


async def test_a_cancellation_of_the_runner_itself_is_passed_on() -> None:
    task = asyncio.create_task(stop_client(_client(hangs=True), "notify"))
    await asyncio.sleep(0)  # the stop is under way
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
