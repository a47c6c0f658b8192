"""Figure 10: the staff console's pages, over the services' APIs (issue 15, item 8).

The registry holds 1,000,000 synthetic people (registry_queries' loader, COPY; reused when
figure 4 loaded them in the same run). `labourx api` serves the registry, notify, matching and
the console, each in its own process as in production; an officer of Vientiane Capital signs in
to the console through the development picker, then asks, one request at a time (an officer
waits for each):

- a person's page, `GET /people/<reference>`: the console asks the registry for the record, its
  consents and its migration records at once, then notify for the messages sent to the person
  (by the id the record gives), and renders the page;
- the search page, `GET /people?q=<name>`: the registry's name search and its office list at
  once (the name as an officer types it, in Lao script or Latin letters).

The reference for each is the same API calls made directly with httpx, with the officer's
token, at once where the console makes them at once: the ratio is what the console adds (its
session lookup, the response models, the page's template, gzip). Then the bytes each main page
sends, gzip as a browser asks for it and unpacked, and with the script and style a first visit
loads (fonts apart: cached a year, and issue 15 counts pages before fonts).
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from bench import registry_queries, report
from bench.processes import Api, Child, start_labourx_api
from bench.stats import latency_summary
from bench.tree import ALL, CLI_MODULE, SERVICES
from shared.auth import mint_token
from shared.db import drop_database
from shared.infra import free_port
from shared.provision import prepare_databases

if TYPE_CHECKING:
    from bench.environment import Environment

TARGET_RATIO = 1.5
TARGET_P95_MS = 150.0
PAGE_BUDGET = 100 * 1024
OFFICE, PROVINCE = "ESC-VT", "LA-VT"
SEARCH_PAGE_SIZE = 25  # services/console/people/search.PAGE_SIZE
# The console's own services besides the registry, started here (figure 4 needs none).
EXTRA_DATABASES = ("console", "matching")

Timed = Callable[[int], Awaitable[None]]


async def _time_both(
    console: Timed, direct: Timed, requests: int, warmup: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Each case asked of the console, then the same calls made directly: alternating, so a
    busy moment of the machine falls on both sides alike."""
    for i in range(warmup):
        await console(i)
        await direct(i)
    seconds: tuple[list[float], list[float]] = ([], [])
    for i in range(warmup, warmup + requests):
        for call, kept in ((console, seconds[0]), (direct, seconds[1])):
            started = time.perf_counter()
            await call(i)
            kept.append(time.perf_counter() - started)
    return latency_summary(seconds[0]), latency_summary(seconds[1])


async def _loaded(env: Environment, people: int, seed: int) -> tuple[int, float]:
    """People in the registry: figure 4's if it ran, else loaded now. (count, seconds)."""
    dsn = env.dsn("registry")
    conn = await asyncpg.connect(dsn)
    try:
        existing = int(await conn.fetchval("SELECT count(*) FROM people"))
    finally:
        await conn.close()
    if existing >= people:
        return existing, 0.0
    started = time.perf_counter()
    await registry_queries.load(dsn, people, seed)
    return people + existing, time.perf_counter() - started


async def _cases(env: Environment, count: int, seed: int) -> list[dict[str, Any]]:
    """People of the officer's province, in random order, with the name typed for each."""
    conn = await asyncpg.connect(env.dsn("registry"))
    try:
        await conn.execute("SELECT setseed($1)", (seed % 1000) / 1000)
        rows = await conn.fetch(
            "SELECT reference, given_name_lo, family_name_lo, given_name_en, family_name_en"
            " FROM people WHERE province_code = $1 AND record_status = 'active'"
            " ORDER BY random() LIMIT $2",
            PROVINCE,
            count,
        )
    finally:
        await conn.close()
    rng = random.Random(seed)
    cases = []
    for row in rows:
        person = dict(row)
        lao = f"{person['given_name_lo'] or ''} {person['family_name_lo'] or ''}".strip()
        latin = f"{person['given_name_en'] or ''} {person['family_name_en'] or ''}".strip()
        typed = lao if (lao and rng.random() < 0.4) or not latin else latin
        cases.append({"reference": person["reference"], "q": typed})
    if len(cases) < count:
        raise RuntimeError(f"only {len(cases)} people of {PROVINCE} to ask for, {count} needed")
    return cases


async def _start_console(env: Environment, upstream: Mapping[str, str]) -> Api:
    """`labourx api console`, told where this run serves each API."""
    port = free_port()
    child_env = env.child_env() | {
        f"LABOURX_CONSOLE_{name.upper()}_URL": url for name, url in upstream.items()
    }
    argv = [sys.executable, "-m", CLI_MODULE, "api", "console", "--port", str(port)]
    child = Child("console-api", argv, child_env, env.log_dir / "console-api.log")
    api = Api(child, port)
    await api.wait_healthy()
    return api


async def _sign_in(console: httpx.AsyncClient) -> None:
    """As an officer does: the sign-in page, then the development picker's form."""
    page = await console.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    done = await console.post(
        "/sign-in/dev",
        data={"csrf_token": token[1], "role": "esc_staff", "office_code": OFFICE, "next": "/"},
    )
    assert done.status_code == 303, done.text[:500]


def _asset_urls(html: str) -> list[str]:
    return sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', html)))


async def _weigh(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    """Bytes a page sends: gzip as the browser asks for it, unpacked, and its first visit's
    script and style (gzip)."""
    page = await client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    assets = 0
    for url in _asset_urls(page.text):
        asset = await client.get(url)
        asset.raise_for_status()
        assets += asset.num_bytes_downloaded
    return {
        "html_gzip": page.num_bytes_downloaded,
        "html": len(page.content),
        "assets_gzip": assets,
        "first_visit_gzip": page.num_bytes_downloaded + assets,
    }


async def run(
    env: Environment, people: int = 1_000_000, requests: int = 300, seed: int = 11
) -> dict[str, Any]:
    await prepare_databases(env.settings, [ALL["console"], SERVICES["matching"]])
    loaded, load_s = await _loaded(env, people, seed)
    warmup = max(requests // 10, 10)
    cases = await _cases(env, requests + warmup, seed)
    apis = {
        name: await start_labourx_api(env, name, f"{name}-api-console")
        for name in ("registry", "notify", "matching")
    }
    console_api: Api | None = None
    results: dict[str, Any] = {
        "people": loaded,
        "requests": requests,
        "load_s": round(load_s, 1),
        "reused_figure_4": load_s == 0.0,
    }
    try:
        upstream = {name: api.base_url for name, api in apis.items()}
        upstream["predeparture"] = "http://127.0.0.1:9"  # no page measured here calls it
        console_api = await _start_console(env, upstream)
        token = mint_token(
            env.settings,
            subject=f"dev-{OFFICE.lower()}-esc-staff",
            roles=["esc_staff"],
            office=OFFICE,
            province=PROVINCE,
        )
        auth = {"Authorization": f"Bearer {token}"}
        gzip = {"Accept-Encoding": "gzip"}
        async with (
            httpx.AsyncClient(base_url=console_api.base_url, headers=gzip, timeout=30) as console,
            httpx.AsyncClient(base_url=apis["registry"].base_url, headers=auth) as registry,
            httpx.AsyncClient(base_url=apis["notify"].base_url, headers=auth) as notify,
        ):
            await _sign_in(console)

            async def person_page(i: int) -> None:
                answer = await console.get(f"/people/{cases[i]['reference']}")
                assert answer.status_code == 200, answer.text[:300]

            async def person_calls(i: int) -> None:
                key = cases[i]["reference"]
                found = await asyncio.gather(
                    registry.get(f"/v1/people/{key}"),
                    registry.get(f"/v1/people/{key}/consents"),
                    registry.get(f"/v1/people/{key}/migrations"),
                )
                for answer in found:
                    answer.raise_for_status()
                person_id = found[0].json()["id"]
                messages = await notify.get(
                    "/v1/messages", params={"person_id": person_id, "limit": 50}
                )
                messages.raise_for_status()

            async def search_page(i: int) -> None:
                answer = await console.get("/people", params={"q": cases[i]["q"]})
                assert answer.status_code == 200, answer.text[:300]

            async def search_calls(i: int) -> None:
                found = await asyncio.gather(
                    registry.get(
                        "/v1/people", params={"q": cases[i]["q"], "limit": SEARCH_PAGE_SIZE}
                    ),
                    registry.get("/v1/offices"),
                )
                for answer in found:
                    answer.raise_for_status()

            lx_person, ref_person = await _time_both(person_page, person_calls, requests, warmup)
            lx_search, ref_search = await _time_both(search_page, search_calls, requests, warmup)

            first = cases[0]
            paths = {
                "home": "/",
                "search": f"/people?q={first['q']}",
                "person": f"/people/{first['reference']}",
                "register": "/register",
                "import": "/imports",
                "waiting": "/offline/waiting",
            }
            weights = {name: await _weigh(console, path) for name, path in paths.items()}
        async with httpx.AsyncClient(
            base_url=console_api.base_url, headers=gzip, timeout=30
        ) as signed_out:
            weights["sign_in"] = await _weigh(signed_out, "/sign-in")
    finally:
        if console_api is not None:
            console_api.child.stop()
        for api in apis.values():
            api.child.stop()
        for name in EXTRA_DATABASES:
            await drop_database(env.settings, name)

    results["person_page"] = {
        "console": lx_person,
        "api_calls": ref_person,
        "p95_ratio": round(lx_person["p95_ms"] / ref_person["p95_ms"], 2),
    }
    results["search_page"] = {
        "console": lx_search,
        "api_calls": ref_search,
        "p95_ratio": round(lx_search["p95_ms"] / ref_search["p95_ms"], 2),
    }
    results["bytes"] = weights
    return results


def checks(figure: Mapping[str, Any]) -> list[report.Check]:
    person = figure["person_page"]
    heaviest = max(figure["bytes"].items(), key=lambda item: item[1]["first_visit_gzip"])
    return [
        report.Check(
            "console person page p95 / the same API calls' p95",
            person["p95_ratio"],
            f"<= {TARGET_RATIO}",
            person["p95_ratio"] <= TARGET_RATIO,
        ),
        report.Check(
            f"console person page p95 (ms), registry at {figure['people']:,} people",
            person["console"]["p95_ms"],
            f"< {TARGET_P95_MS:.0f}",
            person["console"]["p95_ms"] < TARGET_P95_MS,
        ),
        report.Check(
            f"console's heaviest page on a first visit, gzip, before fonts (KB: {heaviest[0]})",
            round(heaviest[1]["first_visit_gzip"] / 1024, 1),
            f"< {PAGE_BUDGET // 1024}",
            heaviest[1]["first_visit_gzip"] < PAGE_BUDGET,
        ),
    ]


PAGE_NAMES = {
    "sign_in": "sign-in",
    "home": "today (home)",
    "search": "people search, a page of results",
    "person": "a person's page",
    "register": "registration form",
    "import": "CSV import",
    "waiting": "waiting to send (offline list)",
}


def rows(figure: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, labourx, reference, ratio) rows, as bench/report.py prints the others."""
    loaded = (
        "as loaded for figure 4"
        if figure["reused_figure_4"]
        else f"loaded in {report._n(figure['load_s'], 's')}"
    )
    found = [
        (
            f"Console pages, registry at {figure['people']:,} people ({loaded}); reference: "
            "the same API calls made directly",
            "",
            "",
            "",
        )
    ]
    for key, title in (("person_page", "a person's page"), ("search_page", "people search")):
        part = figure[key]
        found.append(
            (
                f"  {title} p50 / p95 / p99",
                report._lat(part["console"], "p50_ms", "p95_ms", "p99_ms"),
                report._lat(part["api_calls"], "p50_ms", "p95_ms", "p99_ms"),
                f"{part['p95_ratio']:.2f}",
            )
        )
    found.append(("  bytes sent: page gzip / unpacked; first visit with script+style", "", "", ""))
    for key, title in PAGE_NAMES.items():
        weight = figure["bytes"].get(key)
        if weight:
            found.append(
                (
                    f"    {title}",
                    f"{report._n(weight['html_gzip'] / 1024, 'KB')} / "
                    f"{report._n(weight['html'] / 1024, 'KB')}",
                    f"{report._n(weight['first_visit_gzip'] / 1024, 'KB')}",
                    "",
                )
            )
    return found


def render(figure: Mapping[str, Any]) -> str:
    return report.figure_tables(rows(figure), checks(figure))
