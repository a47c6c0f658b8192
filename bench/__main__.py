"""`python -m bench` (`make bench`): every benchmark in one run, a table, and a JSON file."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from bench import (
    console_pages,
    consumer_recovery,
    dev_footprint,
    e2e_sweep,
    end_to_end,
    matching_queries,
    notify_delivery,
    pipeline_cpu,
    post_throughput,
    predeparture_queries,
    registry_queries,
    relay_throughput,
    report,
    webhook_deliveries,
)
from bench.bodies import Numbering
from bench.environment import (
    BENCH_SERVICES,
    PIPELINE_SERVICES,
    Environment,
    machine,
    provision,
    servers,
    teardown,
)

RESULTS = Path(__file__).resolve().parent / "results"


class LoadClient(StrEnum):
    RAW = "raw"
    HTTPX = "httpx"


class Figure(StrEnum):
    POST = "post"
    RELAY = "relay"
    PIPELINE = "pipeline"
    E2E = "e2e"
    E2E_SWEEP = "e2e-sweep"
    REGISTRY = "registry"
    MATCHING = "matching"
    PREDEPARTURE = "predeparture"
    DELIVERY = "delivery"
    WEBHOOKS = "webhooks"
    FOOTPRINT = "footprint"
    CONSOLE = "console"
    RECOVERY = "recovery"


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


async def run_all(  # noqa: C901 - one branch per figure, in order
    env: Environment,
    figures: set[Figure],
    post_options: post_throughput.PostOptions,
    relay_events: int,
    e2e_rate: float,
    e2e_seconds: float,
    registry_people: int = 1_000_000,
    registry_requests: int = 300,
    matching_candidates: int = 1_000_000,
    matching_vacancies: int = 100_000,
    matching_requests: int = 300,
    predeparture_learners: int = 100_000,
    predeparture_requests: int = 200,
    delivery_messages: int = 5_000,
    console_requests: int = 300,
    recovery_rounds: int = 2,
    pipeline_rate: float = 100,
    pipeline_seconds: float = 20,
    sweep_rates: tuple[float, ...] = (50, 100, 150, 200, 250, 300, 400),
    sweep_seconds: float = 15,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    numbering = Numbering()
    try:
        _say("creating and migrating databases, creating topics")
        await provision(env, PIPELINE_SERVICES if Figure.PIPELINE in figures else BENCH_SERVICES)
        results["machine"] = await machine(env)
        if Figure.POST in figures:
            _say(
                f"POST /v1/jobseekers: labourx and the reference, {post_options.rounds} rounds each"
            )
            results["post"] = await post_throughput.run(env, numbering, post_options)
        if Figure.RELAY in figures:
            _say(f"outbox relay: {relay_events:,} events, then the bare producer")
            results["relay"] = await relay_throughput.run(env, relay_events)
        if Figure.PIPELINE in figures:
            _say(
                f"pipeline CPU: {pipeline_rate:g} registrations/s for {pipeline_seconds:g} s "
                "through the registry API, its relay and four consumers"
            )
            results["pipeline"] = await pipeline_cpu.run(
                env, numbering, pipeline_rate, pipeline_seconds, post_options.client
            )
        if Figure.E2E in figures:
            _say(f"end to end: {e2e_rate:g} registrations/s for {e2e_seconds:g} s")
            results["end_to_end"] = await end_to_end.run(
                env, numbering, e2e_rate, e2e_seconds, post_options.client
            )
        if Figure.E2E_SWEEP in figures:
            _say(
                f"end to end at rising rates ({', '.join(f'{r:g}' for r in sweep_rates)}/s, "
                f"{sweep_seconds:g} s each) until p99 misses its target"
            )
            results["e2e_sweep"] = await e2e_sweep.run(
                env, numbering, sweep_rates, sweep_seconds, post_options.client
            )
        if Figure.REGISTRY in figures:
            _say(
                f"registry queries: loading {registry_people:,} synthetic people, then "
                f"{registry_requests} of each query"
            )
            results["registry"] = await registry_queries.run(
                env, registry_people, registry_requests
            )
        if Figure.MATCHING in figures:
            _say(
                f"matching: loading {matching_candidates:,} candidates and "
                f"{matching_vacancies:,} vacancies, then {matching_requests} requests each way"
            )
            results["matching"] = await matching_queries.run(
                env, matching_candidates, matching_vacancies, matching_requests
            )
        if Figure.PREDEPARTURE in figures:
            _say(
                f"predeparture: loading {predeparture_learners:,} learners with their attendance, "
                f"recomputing their completions, then {predeparture_requests} roster entries"
            )
            results["predeparture"] = await predeparture_queries.run(
                env, predeparture_learners, predeparture_requests
            )
        if Figure.DELIVERY in figures:
            _say(
                f"notify delivery: {delivery_messages:,} SMS rendered, then handed to an HTTP "
                "gateway and to the development provider, each against its reference"
            )
            results["delivery"] = await notify_delivery.run(env, delivery_messages)
        if Figure.WEBHOOKS in figures:
            _say("partner webhooks: signed deliveries by the job, then bare signed POSTs")
            results["webhooks"] = await webhook_deliveries.run(env)
        if Figure.CONSOLE in figures:
            _say(
                f"console pages: the registry at {registry_people:,} people, then "
                f"{console_requests} person pages and searches, each also as direct API calls"
            )
            results["console"] = await console_pages.run(env, registry_people, console_requests)
        if Figure.FOOTPRINT in figures:
            _say(
                "make run's footprint: labourx dev cold and warm, idle memory and CPU, then the "
                "15-process production layout as the reference"
            )
            results["footprint"] = await asyncio.to_thread(dev_footprint.run, env)
        if Figure.RECOVERY in figures:
            _say(
                f"consumer group recovery: {recovery_rounds} rounds of kill -9 and SIGTERM of one "
                "of two members, with the settings before issue 17 and the current ones"
            )
            results["recovery"] = await consumer_recovery.run(env, recovery_rounds)
    finally:
        await teardown(env)
    return results


def _given_options() -> set[str]:
    """The options given on the command line (typer passes defaults the same way)."""
    given = set()
    for arg in sys.argv[1:]:
        if arg.startswith("--"):
            flag = arg[2:].split("=", 1)[0]
            given.add(flag.removeprefix("no-").replace("-", "_"))
    return given


def main(
    requests: Annotated[int, typer.Option(help="Measured POSTs per server and round")] = 4000,
    warmup: Annotated[int, typer.Option(help="Unmeasured POSTs per server first")] = 500,
    concurrency: Annotated[int, typer.Option(help="Requests in flight (closed loop)")] = 32,
    rounds: Annotated[int, typer.Option(help="Alternating rounds per server (median kept)")] = 3,
    idempotency_keys: Annotated[
        bool, typer.Option(help="Also measure labourx with an Idempotency-Key per request")
    ] = True,
    load_client: Annotated[
        LoadClient, typer.Option(help="The load generator's HTTP client (raw: cheapest)")
    ] = LoadClient.RAW,
    relay_events: Annotated[int, typer.Option(help="Outbox rows the relay publishes")] = 20_000,
    e2e_rate: Annotated[float, typer.Option(help="Registrations per second, end to end")] = 200,
    e2e_seconds: Annotated[float, typer.Option(help="How long the end-to-end load runs")] = 20,
    registry_people: Annotated[
        int, typer.Option(help="Synthetic people loaded for the registry queries")
    ] = 1_000_000,
    registry_requests: Annotated[
        int, typer.Option(help="Measured requests of each registry query")
    ] = 300,
    matching_candidates: Annotated[
        int, typer.Option(help="Synthetic candidates loaded for the matching queries")
    ] = 1_000_000,
    matching_vacancies: Annotated[
        int, typer.Option(help="Synthetic published vacancies loaded for the matching queries")
    ] = 100_000,
    matching_requests: Annotated[
        int, typer.Option(help="Measured requests of each matching direction")
    ] = 300,
    predeparture_learners: Annotated[
        int,
        typer.Option(help="Synthetic learners with attendance whose completions are recomputed"),
    ] = 100_000,
    predeparture_requests: Annotated[
        int, typer.Option(help="Measured roster entries (60 people x 9 modules each)")
    ] = 200,
    delivery_messages: Annotated[
        int, typer.Option(help="SMS the notify dispatcher hands over, per provider")
    ] = 5_000,
    console_requests: Annotated[
        int, typer.Option(help="Measured console person pages and searches (each)")
    ] = 300,
    recovery_rounds: Annotated[
        int, typer.Option(help="Rounds of each consumer-recovery case (kill -9, SIGTERM)")
    ] = 2,
    pipeline_rate: Annotated[
        float, typer.Option(help="Registrations per second for the pipeline-CPU figure")
    ] = 100,
    pipeline_seconds: Annotated[
        float, typer.Option(help="How long the pipeline-CPU load runs")
    ] = 20,
    sweep_rates: Annotated[
        str, typer.Option(help="Rates (registrations/s, comma-separated) the e2e sweep tries")
    ] = "50,100,150,200,250,300,400",
    sweep_seconds: Annotated[
        float, typer.Option(help="How long the e2e sweep holds each rate")
    ] = 15,
    quick: Annotated[
        bool,
        typer.Option(
            help="POST, relay, pipeline CPU and end to end, smaller, in under three minutes "
            "(`make bench-quick`); sizes given explicitly still apply"
        ),
    ] = False,
    only: Annotated[
        list[Figure] | None, typer.Option(help="Run only these figures (repeatable)")
    ] = None,
    fail_on_miss: Annotated[
        bool, typer.Option(help="Exit 1 when a target is missed or a figure is invalid")
    ] = False,
) -> None:
    """Measure POST throughput, outbox relay throughput, end-to-end latency, registry queries,
    ranked matching, pre-departure orientation and notify delivery (see docs/performance.md),
    each against a reference measured in the same run."""
    if quick:
        given = _given_options()
        requests = 1000 if "requests" not in given else requests
        warmup = 200 if "warmup" not in given else warmup
        idempotency_keys = False if "idempotency_keys" not in given else idempotency_keys
        relay_events = 5000 if "relay_events" not in given else relay_events
        e2e_seconds = 10 if "e2e_seconds" not in given else e2e_seconds
        pipeline_seconds = 15 if "pipeline_seconds" not in given else pipeline_seconds
        if not only:
            only = [Figure.POST, Figure.RELAY, Figure.PIPELINE, Figure.E2E]
    rates = tuple(float(r) for r in sweep_rates.split(",") if r.strip())
    started = datetime.now(UTC)
    name = started.strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    log_dir = RESULTS / f"{name}-logs"
    log_dir.mkdir()
    options = post_throughput.PostOptions(
        requests, warmup, concurrency, rounds, idempotency_keys, load_client.value
    )
    figures = set(only or Figure)

    with (
        tempfile.TemporaryDirectory(prefix="labourx-bench-") as work_dir,
        servers(Path(work_dir), log_dir) as env,
    ):
        _say(f"servers: {env.database_kind}, {env.broker_kind}; logs in {log_dir}")
        results: dict[str, Any] = {
            "started_at": started.isoformat(timespec="seconds"),
            "options": {
                "requests": requests,
                "warmup": warmup,
                "concurrency": concurrency,
                "rounds": rounds,
                "load_client": load_client.value,
                "relay_events": relay_events,
                "e2e_rate": e2e_rate,
                "e2e_seconds": e2e_seconds,
                "registry_people": registry_people,
                "registry_requests": registry_requests,
                "matching_candidates": matching_candidates,
                "matching_vacancies": matching_vacancies,
                "matching_requests": matching_requests,
                "predeparture_learners": predeparture_learners,
                "predeparture_requests": predeparture_requests,
                "delivery_messages": delivery_messages,
                "console_requests": console_requests,
                "recovery_rounds": recovery_rounds,
                "pipeline_rate": pipeline_rate,
                "pipeline_seconds": pipeline_seconds,
                "sweep_rates": rates,
                "sweep_seconds": sweep_seconds,
                "quick": quick,
                "figures": sorted(figures),
            },
        }
        results |= asyncio.run(
            run_all(
                env,
                figures,
                options,
                relay_events,
                e2e_rate,
                e2e_seconds,
                registry_people,
                registry_requests,
                matching_candidates,
                matching_vacancies,
                matching_requests,
                predeparture_learners,
                predeparture_requests,
                delivery_messages,
                console_requests,
                recovery_rounds,
                pipeline_rate,
                pipeline_seconds,
                rates,
                sweep_seconds,
            )
        )
    results["duration_s"] = round((datetime.now(UTC) - started).total_seconds(), 1)

    checks = report.checks(results)
    print()
    print(report.render(results), flush=True)
    # Figures from 5 on print their own rows and targets in the same layout, and list their
    # targets in their part of the JSON (report.checks knows the figures before them).
    for key, checks_of, render in (
        ("e2e_sweep", e2e_sweep.checks, e2e_sweep.render),
        ("matching", matching_queries.checks, matching_queries.render),
        ("predeparture", predeparture_queries.checks, predeparture_queries.render),
        ("delivery", notify_delivery.checks, notify_delivery.render_table),
        ("webhooks", webhook_deliveries.checks, webhook_deliveries.render),
        ("footprint", dev_footprint.checks, dev_footprint.render),
        ("console", console_pages.checks, console_pages.render),
        ("recovery", consumer_recovery.checks, consumer_recovery.render),
    ):
        if figure := results.get(key):
            figure["targets"] = [asdict(c) for c in checks_of(figure)]
            checks += checks_of(figure)
            print()
            print(render(figure), flush=True)
    path = report.write(results, RESULTS, name)
    print(f"\nresults: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    if fail_on_miss and not all(check.met for check in checks):
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
