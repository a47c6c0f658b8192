"""Figure 1: POST /v1/jobseekers on the registry API against the reference apps.

Two references (bench/reference_app.py, one process): the fair one sends PostgreSQL the same
statements labourx does for a registration, in the registry's own database, through raw
asyncpg; the bare one, the first reference, writes only a person and an outbox row. The ratio
against the fair one is what the framework and labourx's Python add.

A round in which any request did not succeed (409, 500, a dropped connection) makes the figure
invalid: it is reported with its failures by status, never as a throughput or a latency.

The servers are child processes served by uvicorn with one worker, on the same PostgreSQL
server, driven by the same load generator process with the same concurrency, the same number of
requests and the same kind of bodies, each after its own warm-up. Only the app differs.

The machine may be busy with other work, so the servers are measured in alternating rounds
(labourx, reference, then reference, labourx, ...) and each reports its median round: a burst of
outside load then lands on one round of each rather than on one server's only measurement.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.cpu import CpuMeter
from bench.environment import REFERENCE_DATABASE, Environment
from bench.load import LoadSpec
from bench.processes import Api, generate_load, start_labourx_api, start_reference_api
from bench.reference_app import create_schema
from shared.auth import mint_token

if TYPE_CHECKING:
    from bench.bodies import Numbering


@dataclass(frozen=True)
class PostOptions:
    requests: int
    warmup: int
    concurrency: int
    rounds: int
    with_idempotency_keys: bool  # also measure labourx with an Idempotency-Key on every request
    client: str = "raw"  # the load generator's HTTP client: "raw" or "httpx" (bench.load)


@dataclass(frozen=True)
class Contender:
    name: str
    api: Api
    idempotency_keys: bool = False
    path: str = "/v1/jobseekers"


def officer_token(env: Environment) -> str:
    """An ESC officer of Vientiane Capital: may register the bodies of bench.bodies."""
    return mint_token(
        env.settings,
        subject="bench-officer",
        roles=["esc_staff"],
        office="ESC-VT",
        province="LA-VT",
    )


def _spec(
    env: Environment, contender: Contender, numbering: Numbering, options: PostOptions, count: int
) -> LoadSpec:
    return LoadSpec(
        url=f"{contender.api.base_url}{contender.path}",
        token=officer_token(env),
        first=numbering.take(count),
        count=count,
        concurrency=options.concurrency,
        idempotency_keys=contender.idempotency_keys,
        client=options.client,
    )


async def _measure(
    env: Environment, contender: Contender, numbering: Numbering, options: PostOptions
) -> dict[str, Any]:
    meter = CpuMeter({"server": contender.api.child.pid, "postgres": env.postgres_pid}).start()
    result = await generate_load(env, _spec(env, contender, numbering, options, options.requests))
    cpu = meter.stop()
    cpu["load generator"] = result.pop("generator_cpu_s")
    cpu["rest of machine"] = meter.others_s(cpu["load generator"])
    answered = result["latency"]["count"]
    result["failed"] = options.requests - answered
    result["cpu_s"] = {k: round(v, 2) for k, v in cpu.items()}
    # Cores busy while the load ran (the generator's own wall time: the servers idle before it).
    result["cores_used"] = {k: round(v / result["wall_s"], 2) for k, v in cpu.items()}
    result["busiest_other_processes"] = meter.others_by_name
    result["server_cpu_ms_per_request"] = round(cpu["server"] * 1000 / max(answered, 1), 3)
    return result


def failures_by_status(measured: list[dict[str, Any]]) -> dict[str, int]:
    """Requests that did not succeed, by status (or exception), over `measured` load runs."""
    counts: dict[str, int] = {}
    for result in measured:
        for status, count in result["statuses"].items():
            if not status.startswith("2"):
                counts[status] = counts.get(status, 0) + count
        missing = result["requests"] - sum(result["statuses"].values())
        if missing:
            counts["unanswered"] = counts.get("unanswered", 0) + missing
    return dict(sorted(counts.items()))


def _median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median throughput, plus every round's throughput for the record."""
    ordered = sorted(rounds, key=lambda r: r["throughput_rps"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["failed"] = sum(r["failed"] for r in rounds)  # in every round, not just this one
    chosen["failures_by_status"] = failures_by_status(rounds)
    chosen["rounds_rps"] = [r["throughput_rps"] for r in rounds]
    chosen["rounds_server_cpu_ms_per_request"] = [r["server_cpu_ms_per_request"] for r in rounds]
    chosen["median_server_cpu_ms_per_request"] = statistics.median(
        chosen["rounds_server_cpu_ms_per_request"]
    )
    return chosen


async def run(env: Environment, numbering: Numbering, options: PostOptions) -> dict[str, Any]:
    await create_schema(env.dsn(REFERENCE_DATABASE))
    labourx_api = await start_labourx_api(env, "registry", "registry-api")
    reference_api: Api | None = None
    try:
        reference_api = await start_reference_api(env)
        contenders = [
            Contender("labourx", labourx_api),
            Contender("reference", reference_api, path="/full/v1/jobseekers"),
            Contender("reference_bare", reference_api),
        ]
        if options.with_idempotency_keys:
            contenders.append(Contender("labourx_idempotency_key", labourx_api, True))
        for contender in contenders:  # connections, pools, prepared statements, caches
            await generate_load(env, _spec(env, contender, numbering, options, options.warmup))

        rounds: dict[str, list[dict[str, Any]]] = {c.name: [] for c in contenders}
        for index in range(options.rounds):
            for contender in contenders if index % 2 == 0 else reversed(contenders):
                rounds[contender.name].append(await _measure(env, contender, numbering, options))
    finally:
        labourx_api.child.stop()
        if reference_api is not None:
            reference_api.child.stop()

    results: dict[str, Any] = {
        "requests": options.requests,
        "warmup": options.warmup,
        "concurrency": options.concurrency,
        "rounds": options.rounds,
        "client": options.client,
    }
    results |= {name: _median_round(measured) for name, measured in rounds.items()}
    results["throughput_ratio"] = round(
        results["labourx"]["throughput_rps"] / results["reference"]["throughput_rps"], 3
    )
    results["bare_throughput_ratio"] = round(
        results["labourx"]["throughput_rps"] / results["reference_bare"]["throughput_rps"], 3
    )
    results["valid"] = all(results[c.name]["failed"] == 0 for c in contenders)
    return results
