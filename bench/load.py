"""The HTTP load generator, run as its own process: `python -m bench.load '<json spec>'`.

A process of its own so that its event loop never shares a GIL or a loop with the server or the
benchmark driver (they still share the machine's cores; the report says how much it used).
The same generator, settings and bodies drive labourx and the reference.

Two shapes of load:
- closed loop: `concurrency` workers each send their next request as soon as the last answered;
  measures the most a server can take (throughput) and the latency at that load.
- open loop: requests start on a fixed schedule (`rate` per second) whether or not earlier ones
  have answered, and latency counts from the scheduled start, so a stalled server cannot hide
  its stall by slowing the generator down (no coordinated omission).

Prints one JSON object on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.bodies import encoded
from bench.stats import latency_summary


@dataclass
class LoadSpec:
    url: str  # e.g. http://127.0.0.1:8123/v1/jobseekers
    token: str
    first: int  # number of the first body (see bench.bodies)
    count: int
    mode: str = "closed"  # or "open"
    concurrency: int = 32
    rate: float = 200.0  # open loop only
    idempotency_keys: bool = False
    client: str = "raw"  # or "httpx"


class RawConnection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol for JSON POSTs.

    The default client. Measured on the benchmark machine against a trivial app: httpx spends
    about 1 ms of CPU per request, this about 0.05 ms. With two cores shared between generator,
    app and PostgreSQL, an httpx generator would take the CPU the app under test needs, and take
    more of it from the faster app, flattering the ratio.
    """

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.head = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, idempotency_key: str | None) -> int:
        reused = self.writer is not None
        try:
            head = await self._send(body, idempotency_key)
        except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
            await self.close()
            partial = exc.partial if isinstance(exc, asyncio.IncompleteReadError) else b""
            if not reused or partial:
                raise ConnectionError("the server closed the connection") from exc
            # The server closed an idle keep-alive connection (uvicorn does after 5 s) before
            # reading this request; like any HTTP client, send it again on a new connection.
            head = await self._send(body, idempotency_key)
        status_line, _, headers = head.partition(b"\r\n")
        fields = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(b":") for line in headers.split(b"\r\n"))
            if name
        )
        if b"content-length" not in fields:
            raise ConnectionError("response without Content-Length")
        assert self.reader is not None
        await self.reader.readexactly(int(fields[b"content-length"]))
        if fields.get(b"connection", b"").lower() == b"close":
            await self.close()
        return int(status_line.split(b" ", 2)[1])

    async def _send(self, body: bytes, idempotency_key: str | None) -> bytes:
        """Write the request and read the response head."""
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        key = f"Idempotency-Key: {idempotency_key}\r\n".encode() if idempotency_key else b""
        length = f"Content-Length: {len(body)}\r\n\r\n".encode()
        self.writer.write(self.head + key + length + body)
        return await self.reader.readuntil(b"\r\n\r\n")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


class HttpxConnection:
    """The same through httpx (`client: httpx`), to compare generators."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.client = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=httpx.Timeout(30.0),
        )

    async def post(self, body: bytes, idempotency_key: str | None) -> int:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        try:
            response = await self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ConnectionError(repr(exc)) from exc
        return response.status_code

    async def close(self) -> None:
        await self.client.aclose()


Connection = RawConnection | HttpxConnection


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)  # answered with 2xx only
    statuses: Counter[str] = field(default_factory=Counter)

    async def post(self, conn: Connection, body: bytes, key: bool, since: float) -> None:
        try:
            status = await conn.post(body, uuid.uuid4().hex if key else None)
        except (OSError, ValueError) as exc:
            self.statuses[type(exc).__name__] += 1
            await conn.close()
            return
        self.statuses[str(status)] += 1
        if 200 <= status < 300:
            self.latencies.append(time.perf_counter() - since)


def _connect(spec: LoadSpec) -> Connection:
    kind = HttpxConnection if spec.client == "httpx" else RawConnection
    return kind(spec.url, spec.token)


async def closed_loop(spec: LoadSpec) -> dict[str, Any]:
    bodies = encoded(spec.first, spec.count)
    tally = _Tally()
    pending = iter(bodies)  # shared by the workers: each body is sent exactly once

    async def worker() -> None:
        conn = _connect(spec)  # one connection per worker, as `concurrency` clients would
        try:
            for body in pending:
                await tally.post(conn, body, spec.idempotency_keys, time.perf_counter())
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(spec.concurrency)))
    wall = time.perf_counter() - started
    return {
        "mode": "closed",
        "client": spec.client,
        "concurrency": spec.concurrency,
        "requests": spec.count,
        "wall_s": round(wall, 3),
        "throughput_rps": round(len(tally.latencies) / wall, 1),
        "statuses": dict(tally.statuses),
        "latency": latency_summary(tally.latencies),
    }


async def open_loop(spec: LoadSpec) -> dict[str, Any]:
    bodies = encoded(spec.first, spec.count)
    tally = _Tally()
    idle: list[Connection] = []  # a connection per request in flight, reused when it answers
    opened: list[Connection] = []

    async def send(body: bytes, due: float) -> None:
        conn = idle.pop() if idle else _connect(spec)
        if conn not in opened:
            opened.append(conn)
        await tally.post(conn, body, spec.idempotency_keys, due)
        idle.append(conn)

    tasks: list[asyncio.Task[None]] = []
    worst_lag = 0.0
    started = time.perf_counter() + 0.05
    for i, body in enumerate(bodies):
        due = started + i / spec.rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        worst_lag = max(worst_lag, time.perf_counter() - due)
        tasks.append(asyncio.create_task(send(body, due)))
    sending = time.perf_counter() - started
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    for conn in opened:
        await conn.close()
    return {
        "mode": "open",
        "client": spec.client,
        "requests": spec.count,
        "connections": len(opened),
        "target_rate_rps": spec.rate,
        "achieved_rate_rps": round(spec.count / sending, 1),
        "worst_start_lag_ms": round(worst_lag * 1000, 1),
        "wall_s": round(wall, 3),
        "statuses": dict(tally.statuses),
        "latency": latency_summary(tally.latencies),
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def generate(spec: LoadSpec) -> dict[str, Any]:
    before = _cpu_seconds()
    result = await (open_loop(spec) if spec.mode == "open" else closed_loop(spec))
    # Includes building the bodies: a small, known share, fine for "how busy was the generator".
    result["generator_cpu_s"] = round(_cpu_seconds() - before, 3)
    return result


def _run(spec: LoadSpec) -> dict[str, Any]:
    try:
        import uvloop  # the servers run on uvloop too (uvicorn's default when installed)
    except ImportError:
        return asyncio.run(generate(spec))
    return uvloop.run(generate(spec))


if __name__ == "__main__":
    print(json.dumps(_run(LoadSpec(**json.loads(sys.argv[1])))))
