"""Figure: notify's delivery: messages rendered and handed to the provider per second.

N welcome SMS in Lao are rendered from the default template with `templates.domain.render` and
counted with `sms_segments` (timed: the CPU a handler spends per message), then queued in
notify's `messages` table as the handlers leave them (COPY, not timed). The real dispatcher
(`delivery.dispatcher.drain`, what the job runs every second: claim with SKIP LOCKED, mark
`sending`, commit, hand over, record `sent` with its history row and MessageSent event) then
hands them over, each to a number of its own so that the hourly limit does not hold them back,
and with quiet hours off (the figure must not depend on the hour it runs at):

- to a local HTTP SMS gateway of the contract (a small Starlette app under uvicorn, in a process
  of its own, answering at once); the reference is the same number of raw httpx POSTs of the
  same bodies to the same server at the same concurrency, with no database: what the network
  path allows;
- to the development provider (a row in `dev_outbox` per message); the reference is the minimal
  SQL equivalent sent straight to PostgreSQL with asyncpg: per batch, one UPDATE of the claimed
  rows to `sent` and one INSERT of the kept copies, in one transaction.

The rate is messages / (render seconds + hand-over seconds); the ratio is labourx's hand-over
rate over the reference's.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench import report
from bench.cpu import CpuMeter
from bench.processes import Api, Child
from services.notify.delivery.dispatcher import drain
from services.notify.delivery.providers import providers_for
from services.notify.templates.defaults import default_templates
from services.notify.templates.domain import sms_segments
from services.notify.templates.sandbox import render
from shared.db import create_engine, session_factory
from shared.infra import free_port
from shared.reference.offices import office_name

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from starlette.requests import Request

    from bench.environment import Environment

SERVICE = "notify"
EVENT_TYPE = "lao.labourx.bench.delivery.v1"
GIVEN_NAMES = ("ສົມສັກ", "ບຸນມີ", "ຄຳພອນ", "ນາງ ແກ້ວ", "ວັນນະ", "ພອນທິບ", "ສີສະຫວາດ", "ທອງດີ")
MESSAGE_COLUMNS = [
    "id",
    "event_id",
    "event_type",
    "template_key",
    "person_id",
    "province_code",
    "channel",
    "recipient",
    "language",
    "template_id",
    "body",
    "segments",
    "status",
    "attempts",
    "next_attempt_at",
]


# ---------------------------------------------------------------------------------------------
# The gateway, as its own process: `python -m bench.notify_delivery <port>`.


def gateway_app() -> Starlette:
    """An SMS gateway of the contract that accepts everything at once."""
    counter = iter(range(1, 1 << 62))

    async def send(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"id": f"gw-{next(counter)}"})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/sms", send, methods=["POST"]), Route("/healthz", healthz)])


def start_gateway(env: Environment) -> Api:
    port = free_port()
    argv = [sys.executable, "-m", "bench.notify_delivery", str(port)]
    child = Child("sms-gateway", argv, env.child_env(), env.log_dir / "sms-gateway.log")
    return Api(child, port)


# ---------------------------------------------------------------------------------------------
# Rendering and queueing.


def welcome_template() -> str:
    [template] = [
        t
        for t in default_templates()
        if (t["key"], t["channel"], t["language"]) == ("welcome", "sms", "lo")
    ]
    return str(template["body"])


def rendered(count: int) -> tuple[list[tuple[str, int]], float]:
    """`count` welcome SMS rendered and counted, and the seconds it took."""
    body, rng = welcome_template(), random.Random(7)
    office = office_name("ESC-VT", "lo")
    contexts = [
        {"name": rng.choice(GIVEN_NAMES), "reference": f"P-B{n:07d}", "office_name": office}
        for n in range(count)
    ]
    started = time.perf_counter()
    out = []
    for context in contexts:
        text = render(body, context)
        out.append((text, sms_segments(text)))
    return out, time.perf_counter() - started


async def queue(
    conn: asyncpg.Connection, messages: Sequence[tuple[str, int]], offset: int
) -> list[uuid.UUID]:
    """The messages as the handlers queue them (a row and its "queued" history row each)."""
    template_id = await conn.fetchval(
        "SELECT id FROM templates WHERE key = 'welcome' AND channel = 'sms' AND language = 'lo'"
        " ORDER BY version DESC LIMIT 1"
    )
    due = datetime.now(UTC) - timedelta(minutes=1)
    ids = [uuid.uuid4() for _ in messages]
    rows = [
        (
            message_id,
            uuid.uuid4(),
            EVENT_TYPE,
            "welcome",
            uuid.uuid4(),
            "LA-VT",
            "sms",
            f"+85620{60_000_000 + offset + n:08d}",
            "lo",
            template_id,
            text,
            segments,
            "queued",
            0,
            due,
        )
        for n, (message_id, (text, segments)) in enumerate(zip(ids, messages, strict=True))
    ]
    async with conn.transaction():
        await conn.copy_records_to_table("messages", records=rows, columns=MESSAGE_COLUMNS)
        await conn.copy_records_to_table(
            "message_statuses",
            records=[(m, "queued", "welcome") for m in ids],
            columns=["message_id", "status", "detail"],
        )
    await conn.execute("ANALYZE messages")
    return ids


def _cores(meter: CpuMeter) -> dict[str, float]:
    return {**meter.shares(), "rest of machine": round(meter.others_s() / meter.wall_s, 2)}


# ---------------------------------------------------------------------------------------------
# labourx's dispatcher and the references.


async def measure_dispatcher(
    env: Environment,
    provider: str,
    gateway_url: str | None,
    expected: int,
    meter_pids: dict[str, int | None],
) -> dict[str, Any]:
    """The real dispatcher draining `expected` queued messages through one provider."""
    settings = env.settings.model_copy(
        update={
            "sms_provider": provider,
            "sms_gateway_url": gateway_url,
            "sms_gateway_token": SecretStr("bench-token"),
            # Off, so that the figure does not depend on the hour it is measured at.
            "sms_quiet_start": clock_time(0, 0),
            "sms_quiet_end": clock_time(0, 0),
        }
    )
    engine = create_engine(settings, SERVICE)
    sessions = session_factory(engine)
    providers = providers_for(settings, sessions)
    try:
        meter = CpuMeter({"dispatcher": os.getpid(), **meter_pids}).start()
        started = time.perf_counter()
        sent = passes = 0
        while sent < expected:
            result = await drain(sessions, settings, providers, budget_s=3600)
            sent += result.sent
            passes += 1
            if result.claimed == 0 and sent < expected:
                raise RuntimeError(f"dispatcher stalled at {sent} of {expected}")
        seconds = time.perf_counter() - started
        meter.stop()
    finally:
        await providers.aclose()
        await engine.dispose()
    return {
        "messages": sent,
        "seconds": round(seconds, 3),
        "messages_per_s": round(sent / seconds, 1),
        "batch_size": settings.delivery_batch_size,
        "concurrency": settings.delivery_concurrency,
        "busiest_other_processes": meter.others_by_name,
        "cores_used": _cores(meter),
    }


async def measure_raw_posts(
    gateway_url: str, bodies: Sequence[str], concurrency: int, meter_pids: dict[str, int | None]
) -> dict[str, Any]:
    """The same SMS POSTed straight to the gateway at the same concurrency, no database."""
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        headers={"Authorization": "Bearer bench-token"},
        limits=httpx.Limits(max_connections=concurrency),
        timeout=10,
    ) as client:

        async def post(n: int, text: str) -> None:
            async with gate:
                body = {
                    "to": f"+85620{n:08d}",
                    "from": "LABOURX",
                    "text": text,
                    "reference": str(n),
                }
                response = await client.post(gateway_url, json=body)
                response.raise_for_status()

        await post(0, bodies[0])  # warm-up: the connection
        meter = CpuMeter({"client": os.getpid(), **meter_pids}).start()
        started = time.perf_counter()
        await asyncio.gather(*(post(n, text) for n, text in enumerate(bodies)))
        seconds = time.perf_counter() - started
        meter.stop()
    return {
        "messages": len(bodies),
        "seconds": round(seconds, 3),
        "messages_per_s": round(len(bodies) / seconds, 1),
        "busiest_other_processes": meter.others_by_name,
        "cores_used": _cores(meter),
    }


async def measure_raw_sql(
    conn: asyncpg.Connection, expected: int, batch: int, meter_pids: dict[str, int | None]
) -> dict[str, Any]:
    """The minimal hand-over to a table: per batch, one UPDATE claiming queued rows as sent and
    one INSERT of their copies, in one transaction; nothing else."""
    meter = CpuMeter({"client": os.getpid(), **meter_pids}).start()
    started = time.perf_counter()
    done = 0
    while done < expected:
        async with conn.transaction():
            rows = await conn.fetch(
                """
                UPDATE messages SET status = 'sent', sent_at = now(), attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM messages WHERE status = 'queued' AND next_attempt_at <= now()
                      AND event_type = $1
                    ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
                RETURNING id, channel, recipient, body
                """,
                EVENT_TYPE,
                batch,
            )
            await conn.executemany(
                "INSERT INTO dev_outbox (message_id, channel, recipient, sender, body)"
                " VALUES ($1, $2, $3, 'LABOURX', $4)",
                [(r["id"], r["channel"], r["recipient"], r["body"]) for r in rows],
            )
        if not rows:
            raise RuntimeError(f"reference stalled at {done} of {expected}")
        done += len(rows)
    seconds = time.perf_counter() - started
    meter.stop()
    return {
        "messages": done,
        "seconds": round(seconds, 3),
        "messages_per_s": round(done / seconds, 1),
        "busiest_other_processes": meter.others_by_name,
        "cores_used": _cores(meter),
    }


ROUNDS = 3  # alternating rounds per path (L R, R L, L R), the median kept


def _median_round(rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(rounds, key=lambda r: r["messages_per_s"])
    return {**ordered[len(ordered) // 2], "rounds_per_s": [r["messages_per_s"] for r in rounds]}


async def run(env: Environment, messages: int) -> dict[str, Any]:
    texts, render_s = rendered(messages)
    bodies = [t for t, _ in texts]
    gateway = start_gateway(env)
    conn: asyncpg.Connection = await asyncpg.connect(env.dsn(SERVICE))
    numbers = itertools.count(0, messages)
    try:
        await gateway.wait_healthy()
        url = f"{gateway.base_url}/sms"
        pg = {"postgres": env.postgres_pid}
        both = {**pg, "gateway": gateway.child.pid}
        # Messages other figures queued (end to end's welcome SMS) are not this figure's.
        await conn.execute(
            "UPDATE messages SET status = 'cancelled' WHERE status = 'queued' AND event_type <> $1",
            EVENT_TYPE,
        )
        concurrency, batch = env.settings.delivery_concurrency, env.settings.delivery_batch_size

        async def http_labourx() -> dict[str, Any]:
            await queue(conn, texts, next(numbers))
            return await measure_dispatcher(env, "http", url, messages, both)

        async def http_reference() -> dict[str, Any]:
            return await measure_raw_posts(url, bodies, concurrency, both)

        async def dev_labourx() -> dict[str, Any]:
            await queue(conn, texts, next(numbers))
            return await measure_dispatcher(env, "dev", None, messages, pg)

        async def dev_reference() -> dict[str, Any]:
            await queue(conn, texts, next(numbers))
            return await measure_raw_sql(conn, messages, batch, pg)

        measured: dict[str, list[dict[str, Any]]] = {
            "http": [],
            "http_ref": [],
            "dev": [],
            "dev_ref": [],
        }
        for n in range(ROUNDS):
            for path, labourx_arm, reference_arm in (
                ("http", http_labourx, http_reference),
                ("dev", dev_labourx, dev_reference),
            ):
                if n % 2 == 0:
                    measured[path].append(await labourx_arm())
                    measured[f"{path}_ref"].append(await reference_arm())
                else:
                    measured[f"{path}_ref"].append(await reference_arm())
                    measured[path].append(await labourx_arm())

        events = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE type = 'lao.labourx.notify.message.sent.v1'"
        )
        unsent = await conn.fetchval(
            "SELECT count(*) FROM messages WHERE event_type = $1 AND status <> 'sent'", EVENT_TYPE
        )
        await conn.execute("DELETE FROM messages WHERE event_type = $1", EVENT_TYPE)
    finally:
        await conn.close()
        gateway.child.stop()
    http, raw_http = _median_round(measured["http"]), _median_round(measured["http_ref"])
    dev, raw_sql = _median_round(measured["dev"]), _median_round(measured["dev_ref"])
    return {
        "messages": messages,
        "rounds": ROUNDS,
        "segments": sorted({s for _, s in texts}),
        "render": {
            "seconds": round(render_s, 3),
            "messages_per_s": round(messages / render_s, 1),
        },
        "http": {
            "labourx": http,
            "reference": raw_http,
            "ratio": round(http["messages_per_s"] / raw_http["messages_per_s"], 3),
            "rendered_and_handed_per_s": round(messages / (render_s + http["seconds"]), 1),
        },
        "dev": {
            "labourx": dev,
            "reference": raw_sql,
            "ratio": round(dev["messages_per_s"] / raw_sql["messages_per_s"], 3),
            "rendered_and_handed_per_s": round(messages / (render_s + dev["seconds"]), 1),
        },
        "sent_events": events,
        "not_sent": unsent,
    }


def checks(figure: Mapping[str, Any]) -> list[report.Check]:
    """No numeric target in the issue: every message handed over once, with its event."""
    want = 2 * figure["messages"] * figure["rounds"]
    return [
        report.Check(
            "notify delivery: MessageSent events staged, every queued message sent",
            figure["sent_events"],
            f"= {want:,}",
            figure["sent_events"] == want and figure["not_sent"] == 0,
        ),
    ]


def rows(figure: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    http, dev, render_ = figure["http"], figure["dev"], figure["render"]
    segments = "/".join(str(s) for s in figure["segments"])
    found = [
        (
            f"Notify delivery: {figure['messages']:,} welcome SMS in Lao ({segments} segments), "
            f"rendered then handed over, median of {figure['rounds']} rounds",
            "",
            "",
            "",
        ),
        ("  render + segment count", report._n(render_["messages_per_s"], "msg/s"), "", ""),
    ]
    for title, part, reference in (
        ("HTTP gateway (reference: raw httpx POSTs)", http, "raw POSTs"),
        ("development provider (reference: UPDATE + INSERT per batch)", dev, "SQL"),
    ):
        lx, ref = part["labourx"], part["reference"]
        found += [
            (
                f"  {title}",
                report._n(lx["messages_per_s"], "msg/s"),
                report._n(ref["messages_per_s"], "msg/s"),
                f"{part['ratio']:.2f}",
            ),
            (
                "    rendered and handed over, end to end",
                report._n(part["rendered_and_handed_per_s"], "msg/s"),
                "",
                "",
            ),
            (
                "    every round",
                " / ".join(report._n(r) for r in lx["rounds_per_s"]),
                " / ".join(report._n(r) for r in ref["rounds_per_s"]),
                "",
            ),
            ("    cores used (labourx)", report._cores(lx["cores_used"]), "", ""),
            (f"    cores used ({reference})", report._cores(ref["cores_used"]), "", ""),
        ]
    return found


def render_table(figure: Mapping[str, Any]) -> str:
    return report.figure_tables(rows(figure), checks(figure))


if __name__ == "__main__":
    uvicorn.run(
        gateway_app(),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
    )
