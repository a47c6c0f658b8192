"""The abuse suite's fixture world: one object of every kind, all of Vientiane Capital, made
through the services' own APIs by those who own them, and the identities that must not touch
them.

Ask for `world` (built once for the package) in any abuse test:

- `world.ids`: a value for every path parameter the APIs and the console take (`person_id`,
  `vacancy_id`, `subscription_id`, `key`/`channel`/`language` of a template, the console's
  `person`...), each naming a real object of the world; `PATH_VALUES` says which object each is;
- `world.owners`: request headers of those who made the objects (Vientiane's ESC and MRC
  officers, an admin, agency A's agent, partner A's API key);
- `world.intruders`: request headers of those who must not touch them: ESC and MRC staff of
  Champasak, partner B (its API key and a partner token), agency B's agent, a national analyst;
- `world.writes`: every write made while building, as its owner sent it (service, route
  template, path, body, Idempotency-Key, answer), for tests that replay or vary them;
- `world.secrets`: what only those in the person's scope may ever read (contact, documents,
  village, a complaint's words), to look for in any answer given to someone else;
  `world.identifiers`: the person's id and reference, which only an identity card shows them;
- `fingerprint(settings, service)`: a digest of every row of a service's database, equal
  before and after a request that changed nothing.

While the world is built the relays and consumers run, so that events reach every service (the
candidate in matching, the learner in predeparture, the contact, welcome message and webhook
delivery in notify, the placement back in registry). Once every outbox is sent and every
consumer group has caught up they are stopped: nothing changes a database behind a test's back
afterwards. Time is moved by SQL in one place, as the orientation tests do: the session the
person attended has ended, so that its roster counts and their certificate is issued.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from labourx.catalog import SERVICES, load
from services.predeparture.curricula.defaults import DEFAULT_CURRICULUM_ID
from shared import clock
from shared.app import create_app
from shared.db import asyncpg_dsn, create_engine, drop_database, session_factory
from shared.outbox.relay import OutboxRelay
from shared.provision import prepare_databases
from tests.support import (
    bearer,
    clear_upcoming_sessions,
    full_registration,
    jobseeker,
    wait_until,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from shared.settings import Settings

TODAY = clock.today()
THAILAND = ["RIGHTS", "SAFE-MIG", "OSH", "MONEY", "SOC-SEC", "GENDER", "HELP", "HEALTH", "DEST-TH"]
# The person's profile: a sewing machine operator willing to work in Thailand, so that both
# the domestic job and the demand letter below let them through their hard filters.
SEWING = {
    "desired_occupations": ["8153"],
    "preferred_provinces": ["LA-VT"],
    "willing_to_work_abroad": True,
    "abroad_countries": ["TH"],
    "availability": "full_time",
}
COUNTER_CONSENTS = [
    {"purpose": "contact_sms", "status": "given", "method": "signed"},
    {"purpose": "job_matching", "status": "given", "method": "signed"},
]
# Where the console is opened in tests (https: its cookies are Secure).
CONSOLE_URL = "https://console.test"

# Which object of the world each path parameter names (the keys of `world.ids`).
PATH_VALUES = {
    "person_id": "the person, a jobseeker of Vientiane Capital registered at ESC-VT",
    "migration_id": "the person's migration record (Thailand, MOU)",
    "employer_id": "an employer of Vientiane Capital",
    "agency_id": "agency A, licensed, with the demand letter",
    "complaint_id": "a complaint about agency A taken at ESC-VT",
    "vacancy_id": "agency A's demand letter for Thailand, recruited in Vientiane, published",
    "referral_id": "the person's referral to the demand letter",
    "placement_id": "the person's placement in a domestic job (ended)",
    "curriculum_id": "a curriculum version of the world's own code, active",
    "session_id": "an orientation session at MRC-VT the person attended (closed)",
    "enrolment_id": "the person's place in that session",
    "certificate_number": "the person's certificate from that session",
    "code": "its public verification code",
    "outreach_id": "a village outreach session recorded by MRC-VT",
    "message_id": "the person's welcome SMS",
    "key": "a message template (welcome)",
    "channel": "its channel (sms)",
    "language": "its language (lo)",
    "subscription_id": "partner A's webhook subscription to registry.people",
    "delivery_id": "a webhook delivery of partner A's (the person's registration)",
    "stream": "registry.people, which partner A subscribes to",
    "partner_id": "partner A",
    "key_id": "partner A's API key",
    # The console's pages: a person by reference, a migration record by id.
    "person": "the person's reference (the console's person pages)",
}


@dataclass(frozen=True)
class Write:
    """A write made while building the world, as its owner sent it."""

    service: str
    method: str
    route: str  # the OpenAPI path template
    path: str
    owner: str  # a key of `World.owners`
    body: Any  # JSON, or bytes sent with `content_type`
    key: str | None  # the Idempotency-Key sent
    status: int
    answer: Any
    content_type: str | None = None


@dataclass
class World:
    settings: Settings
    clients: dict[str, httpx.AsyncClient]
    ids: dict[str, str] = field(default_factory=dict)
    owners: dict[str, dict[str, str]] = field(default_factory=dict)
    intruders: dict[str, dict[str, str]] = field(default_factory=dict)
    # The subject of each identity's token (owners and intruders alike), and the agency code
    # an agent's token carries (`agent`: agency A's, `agency`: agency B's).
    subjects: dict[str, str] = field(default_factory=dict)
    agencies: dict[str, str] = field(default_factory=dict)
    writes: list[Write] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    # The person's id and reference: shown outside their scope only on an identity card.
    identifiers: set[str] = field(default_factory=set)

    async def write(
        self,
        service: str,
        method: str,
        route: str,
        owner: str,
        body: Any = None,
        *,
        expect: int | tuple[int, ...] = (200, 201),
        content_type: str | None = None,
        **params: str,
    ) -> Any:
        """Send a write as `owner` with an Idempotency-Key, record it, return the answer."""
        path = route.format(**params)
        key = f"abuse-{uuid.uuid4()}"
        headers = {**self.owners[owner], "Idempotency-Key": key}
        if content_type is not None:
            headers["Content-Type"] = content_type
            answer = await self.clients[service].request(
                method, path, content=body, headers=headers
            )
        else:
            answer = await self.clients[service].request(method, path, json=body, headers=headers)
        wanted = (expect,) if isinstance(expect, int) else expect
        assert answer.status_code in wanted, f"{method} {path}: {answer.text}"
        content = answer.json() if answer.content else None
        self.writes.append(
            Write(
                service,
                method,
                route,
                path,
                owner,
                body,
                key,
                answer.status_code,
                content,
                content_type,
            )
        )
        return content


# -- telling that nothing changed ----------------------------------------------------------------

_TABLES: dict[tuple[str, str], list[str]] = {}
# Bookkeeping of requests rather than data: a refused request may count there by design.
NOT_DATA = {"rate_limits": "rate-limit counters (shared/ratelimit.py): attempts, refused or not"}


async def fingerprint(settings: Settings, service: str) -> dict[str, tuple[int, int]]:
    """Every table of the service's database (but NOT_DATA): its row count and an order-free
    digest of its rows. Two fingerprints are equal when no row was added, removed or changed in
    between."""
    conn = await asyncpg.connect(asyncpg_dsn(settings.service_database_url(service)))
    try:
        tables = _TABLES.get((settings.database_prefix, service))
        if tables is None:
            tables = _TABLES[(settings.database_prefix, service)] = [
                r["tablename"]
                for r in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
                )
                if r["tablename"] not in NOT_DATA
            ]
        # Table names come from pg_tables, quoted.
        parts = ", ".join(
            f"(SELECT ARRAY[count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)]"  # noqa: S608
            f" FROM {_quoted(table)} t)"
            for table in tables
        )
        row = await conn.fetchrow(f"SELECT {parts}")
    finally:
        await conn.close()
    assert row is not None
    return {table: (int(row[i][0]), int(row[i][1])) for i, table in enumerate(tables)}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def changed_tables(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> list[str]:
    """The tables whose rows differ between two fingerprints."""
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


# -- the running network while the world is built ------------------------------------------------


@contextlib.asynccontextmanager
async def _network(settings: Settings) -> AsyncIterator[None]:
    """Every relay and consumer group, as `labourx relay` and `labourx consume` run them."""
    stop = asyncio.Event()
    engines = [create_engine(settings, name) for name in SERVICES]
    tasks = [asyncio.create_task(OutboxRelay(settings, name).run(stop)) for name in SERVICES]
    for name, engine in zip(SERVICES, engines, strict=True):
        for consumer in SERVICES[name].consumers:
            runner = consumer.runner(settings, session_factory(engine))
            tasks.append(asyncio.create_task(runner.run(stop)))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for engine in engines:
            await engine.dispose()


async def _unsent(settings: Settings) -> dict[str, int]:
    """Outbox rows not yet published, by service."""
    counts = {}
    for name in SERVICES:
        conn = await asyncpg.connect(asyncpg_dsn(settings.service_database_url(name)))
        try:
            counts[name] = int(
                await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            )
        finally:
            await conn.close()
    return {name: n for name, n in counts.items() if n}


async def _lagging(settings: Settings) -> dict[str, int]:
    """Records each consumer group has not yet committed past, by group. (A consumer that only
    asks for committed offsets never joins its group: it takes nothing from the members.)"""
    lag: dict[str, int] = {}
    for name in SERVICES:
        for group in SERVICES[name].consumers:
            reader = AIOKafkaConsumer(
                bootstrap_servers=settings.bootstrap_servers,
                group_id=group.group,
                enable_auto_commit=False,
            )
            await reader.start()
            try:
                partitions = [
                    TopicPartition(topic, p)
                    for topic in group.topics
                    for p in sorted(reader.partitions_for_topic(topic) or ())
                ]
                ends = await reader.end_offsets(partitions) if partitions else {}
                behind = 0
                for tp, end in ends.items():
                    behind += end - (await reader.committed(tp) or 0)
            finally:
                await reader.stop()
            if behind > 0:
                lag[group.group] = behind
    return lag


async def _quiet(settings: Settings) -> None:
    """Wait until every outbox is sent and every consumer group has applied what was sent."""

    async def settled() -> bool:
        return not await _unsent(settings) and not await _lagging(settings)

    deadline = time.monotonic() + 180
    while not await settled():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the world did not settle in 180 s: unsent outbox rows {await _unsent(settings)},"
                f" consumer lag {await _lagging(settings)}"
            )
        await asyncio.sleep(0.5)


# -- the world -----------------------------------------------------------------------------------


# The world's clients call from an address of their own (TEST-NET-1): the rate limits other
# tests reach from the default test address never refuse them.
WORLD_ADDRESS = ("192.0.2.16", 40000)


async def _client(app: FastAPI, stack: contextlib.AsyncExitStack) -> httpx.AsyncClient:
    await stack.enter_async_context(app.router.lifespan_context(app))
    transport = httpx.ASGITransport(app=app, client=WORLD_ADDRESS, raise_app_exceptions=False)
    return await stack.enter_async_context(
        httpx.AsyncClient(transport=transport, base_url="http://testserver")
    )


@pytest.fixture(scope="package")
async def world(migrated: Settings) -> AsyncIterator[World]:
    """One object of every kind, all of Vientiane Capital (see this module's docstring)."""
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            name: await _client(create_app(SERVICES[name], migrated), stack) for name in SERVICES
        }
        built = World(migrated, clients)
        async with _network(migrated):
            await _build(built)
            await _quiet(migrated)
        yield built


def _identities(world: World) -> None:
    settings = world.settings
    tag = uuid.uuid4().hex[:6]

    def token(name: str, subject: str, roles: list[str], **claims: Any) -> dict[str, str]:
        world.subjects[name] = subject
        return bearer(settings, subject, roles, **claims)

    world.owners.update(
        vt_esc=token(
            "vt_esc", f"abuse-esc-vt-{tag}", ["esc_staff"], office="ESC-VT", province="LA-VT"
        ),
        vt_mrc=token(
            "vt_mrc", f"abuse-mrc-vt-{tag}", ["mrc_staff"], office="MRC-VT", province="LA-VT"
        ),
        admin=token("admin", f"abuse-admin-{tag}", ["admin"]),
    )
    world.intruders.update(
        esc_ch=token(
            "esc_ch", f"abuse-esc-ch-{tag}", ["esc_staff"], office="ESC-CH", province="LA-CH"
        ),
        mrc_ch=token(
            "mrc_ch", f"abuse-mrc-ch-{tag}", ["mrc_staff"], office="MRC-CH", province="LA-CH"
        ),
        analyst=token("analyst", f"abuse-analyst-{tag}", ["analyst"], national=True),
    )


async def _build(world: World) -> None:
    _identities(world)
    # An upcoming session another test left would take the person in by automatic invitation
    # when their migration record opens, and its office would then serve them.
    await clear_upcoming_sessions(world.settings)
    tag = uuid.uuid4().hex[:8].upper()
    await _partners(world, tag)  # first: the person's registration is delivered to partner A
    await _registry(world)
    await _matching(world, tag)
    await _predeparture(world, tag)
    await _notify(world)
    missing = set(PATH_VALUES) - set(world.ids)
    assert not missing, f"the world has nothing for {sorted(missing)}"


async def _partners(world: World, tag: str) -> None:
    """Partner A subscribed (webhook) to registry.people; partner B, whose key intrudes."""
    notify = world.clients["notify"]
    made = {}
    for name in ("A", "B"):
        answer = await notify.post(
            "/v1/partners",
            json={"code": f"ABUSE-{name}-{tag}", "name": f"Partner {name}", "category": "ngos"},
            headers=world.owners["admin"],
        )
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()
    world.owners["partner"] = {"X-API-Key": made["A"]["key"]["api_key"]}
    world.subjects["partner"] = f"partner:{made['A']['partner']['code']}"
    world.intruders["partner"] = {
        "X-API-Key": made["B"]["key"]["api_key"],
        **bearer(world.settings, f"abuse-partner-b-{tag}", ["partner"]),
    }
    world.subjects["partner_b"] = f"abuse-partner-b-{tag}"
    world.ids.update(partner_id=made["A"]["partner"]["id"], key_id=made["A"]["key"]["id"])
    subscribed = await notify.post(
        "/v1/partners/me/subscriptions",
        json={
            "stream": "registry.people",
            "webhook_url": f"https://hooks.partner-a-{tag.lower()}.example.org/labourx",
        },
        headers=world.owners["partner"],
    )
    assert subscribed.status_code == 201, subscribed.text
    world.ids.update(subscription_id=subscribed.json()["id"], stream="registry.people")


async def _registry(world: World) -> None:
    """The person, their consents and migration record; and the throwaway records the other
    writes of registry are made on (so that the person stays as the matrix needs them)."""
    body = full_registration(jobseeker=SEWING, consents=COUNTER_CONSENTS)
    body["skills"]["tags"] = ["sewing", "overlock machine"]
    person = await world.write("registry", "POST", "/v1/jobseekers", "vt_esc", body)
    pid = person["id"]
    world.ids.update(person_id=pid, person=person["reference"])
    world.identifiers |= {pid, person["reference"]}
    world.secrets |= {
        body["phone"],
        body["email"],
        body["village"],
        *(d["number"] for d in body["documents"]),
    }
    await world.write(
        "registry",
        "POST",
        "/v1/people/{person_id}/consents",
        "vt_esc",
        {"purpose": "contact_email", "status": "given", "method": "signed"},
        person_id=pid,
    )
    migration = await world.write(
        "registry",
        "POST",
        "/v1/people/{person_id}/migrations",
        "vt_esc",
        {"destination_country": "TH", "channel": "mou", "passport_number": "PX" + pid[:6].upper()},
        person_id=pid,
    )
    world.ids["migration_id"] = migration["id"]
    world.secrets.add("PX" + pid[:6].upper())
    await world.write(
        "registry",
        "POST",
        "/v1/people/duplicate-check",
        "vt_esc",
        # Without documents: a known document number is a 409, as registering would answer.
        {k: v for k, v in body.items() if k not in ("consents", "jobseeker", "documents")},
    )

    # Throwaway records of Vientiane for the writes that would change the person.
    migrant = await world.write(
        "registry", "POST", "/v1/people", "vt_mrc", jobseeker(office_code="MRC-VT")
    )
    world.ids["_migrant"] = migrant["id"]
    record = await world.write(
        "registry",
        "POST",
        "/v1/people/{person_id}/migrations",
        "vt_mrc",
        {"destination_country": "KR", "channel": "other_regular"},
        person_id=migrant["id"],
    )
    await world.write(
        "registry",
        "POST",
        "/v1/migrations/{migration_id}/status",
        "vt_mrc",
        {"status": "cancelled"},
        migration_id=record["id"],
    )
    survivor = await world.write("registry", "POST", "/v1/jobseekers", "vt_esc", jobseeker())
    twin = jobseeker(
        given_name_lo=survivor["given_name_lo"],
        given_name_en=survivor["given_name_en"],
        date_of_birth=survivor["date_of_birth"],
        confirm_not_duplicate=True,
    )
    duplicate = await world.write("registry", "POST", "/v1/jobseekers", "vt_esc", twin)
    await world.write(
        "registry",
        "POST",
        "/v1/people/{person_id}/merge",
        "vt_esc",
        {"duplicate_id": duplicate["id"], "reason": "registered twice at the counter"},
        person_id=survivor["id"],
    )
    await world.write(
        "registry",
        "POST",
        "/v1/people/{person_id}/jobseeker/status",
        "vt_esc",
        {"status": "inactive", "reason": "found work on their own"},
        person_id=survivor["id"],
    )
    leaving = await world.write("registry", "POST", "/v1/jobseekers", "vt_esc", jobseeker())
    await world.write(
        "registry",
        "POST",
        "/v1/people/{person_id}/erasure",
        "vt_esc",
        {"reason": "written request R-2026-17"},
        person_id=leaving["id"],
    )
    visited = await world.write("registry", "POST", "/v1/jobseekers", "vt_esc", jobseeker())
    await world.write(
        "registry",
        "POST",
        "/v1/people/{person_id}/visits",
        "vt_mrc",
        {"reason": "counselling before migrating"},
        person_id=visited["id"],
    )
    await world.write(
        "registry",
        "POST",
        "/v1/people/{person_id}/transfer",
        "vt_mrc",
        {"reason": "now followed by the MRC"},
        person_id=visited["id"],
    )
    row = jobseeker()
    csv = (
        "given_name_en,family_name_en,sex,date_of_birth,province_code,phone\n"
        f"{row['given_name_en']},{row['family_name_en']},{row['sex']},{row['date_of_birth']},"
        f"LA-VT,{row['phone']}\n"
    ).encode()
    await world.write("registry", "POST", "/v1/imports", "vt_esc", csv, content_type="text/csv")


async def _matching(world: World, tag: str) -> None:
    """An employer, agencies A and B, the demand letter and a domestic job, the person referred
    to both, on the name list with a cost, placed in the domestic job (ended), a complaint."""
    pid = world.ids["person_id"]
    employer = await world.write(
        "matching",
        "POST",
        "/v1/employers",
        "vt_esc",
        {
            "name": "Vientiane Garments",
            "registration_number": f"ERN-{tag}",
            "isic_section": "C",
            "province_code": "LA-VT",
            "district": "Sikhottabong",
            "contact_name": "Ms Keo",
            "contact_phone": "020 5555 1234",
        },
    )
    world.ids["employer_id"] = employer["id"]
    agencies = {}
    for name in ("A", "B", "C"):
        agencies[name] = await world.write(
            "matching",
            "POST",
            "/v1/agencies",
            "admin",
            {
                "code": f"AB{name}-{tag}",
                "name": f"Abuse Manpower {name} {tag}",
                "licence_number": f"MOLSW-AB{name}-{tag}",
                "licence_issued_on": (TODAY - timedelta(days=365)).isoformat(),
                "licence_expires_on": (TODAY + timedelta(days=730)).isoformat(),
                "destinations": ["TH"],
                "province_code": "LA-VT",
            },
        )
    world.ids["agency_id"] = agencies["A"]["id"]
    world.agencies.update(agent=agencies["A"]["code"], agency=agencies["B"]["code"])
    world.owners["agent"] = bearer(
        world.settings, f"abuse-agent-a-{tag}", ["agency"], agency=agencies["A"]["code"]
    )
    world.subjects["agent"] = f"abuse-agent-a-{tag}"
    world.intruders["agency"] = bearer(
        world.settings, f"abuse-agent-b-{tag}", ["agency"], agency=agencies["B"]["code"]
    )
    world.subjects["agency"] = f"abuse-agent-b-{tag}"
    await world.write(
        "matching",
        "POST",
        "/v1/agencies/{agency_id}/status",
        "admin",
        {"status": "suspended", "reason": "fees charged to workers, under inquiry"},
        agency_id=agencies["C"]["id"],
    )
    await world.write(
        "matching",
        "POST",
        "/v1/agencies/{agency_id}/licence",
        "admin",
        {"licence_expires_on": (TODAY + timedelta(days=900)).isoformat()},
        agency_id=agencies["A"]["id"],
    )
    # The first write of a route is the one tests/abuse/test_idempotent_replays.py sends again
    # as another office, which may file a complaint too: one naming no one comes first.
    await world.write(
        "matching",
        "POST",
        "/v1/agencies/{agency_id}/complaints",
        "vt_esc",
        {
            "category": "passport_withheld",
            "received_on": TODAY.isoformat(),
            "description": "Passports kept at the training centre",
        },
        agency_id=agencies["A"]["id"],
    )
    complaint = await world.write(
        "matching",
        "POST",
        "/v1/agencies/{agency_id}/complaints",
        "vt_esc",
        {
            "category": "fees_charged",
            "received_on": TODAY.isoformat(),
            "description": f"Charged 3000 THB for a medical check (complaint {tag})",
            "person_id": pid,
        },
        agency_id=agencies["A"]["id"],
    )
    world.ids["complaint_id"] = complaint["id"]
    world.secrets.add(f"complaint {tag}")
    await world.write(
        "matching",
        "POST",
        "/v1/agencies/{agency_id}/complaints/{complaint_id}/status",
        "admin",
        {"status": "investigating"},
        agency_id=agencies["A"]["id"],
        complaint_id=complaint["id"],
    )

    letter = await world.write(
        "matching",
        "POST",
        "/v1/vacancies",
        "agent",
        {
            "kind": "overseas",
            "title": "Sewing machine operator",
            "isco08": "8153",
            "agency_id": agencies["A"]["id"],
            "destination_country": "TH",
            "foreign_employer": "Siam Garments Co., Ltd",
            "demand_letter_ref": f"DL-{tag}",
            "channel": "mou",
            "province_code": "LA-VT",
            "required_skills": ["sewing"],
            "positions": 3,
            "wage_amount": "12000",
            "wage_currency": "THB",
            "wage_period": "month",
            "contract_months": 24,
            "closes_on": (TODAY + timedelta(days=60)).isoformat(),
            "worker_fees": [{"item": "visa", "amount": "0", "currency": "THB"}],
        },
    )
    world.ids["vacancy_id"] = letter["id"]
    job = await world.write(
        "matching",
        "POST",
        "/v1/vacancies",
        "vt_esc",
        {
            "kind": "domestic",
            "title": "Garment sewing operator",
            "isco08": "8153",
            "employer_id": employer["id"],
            "province_code": "LA-VT",
            "district": "Sikhottabong",
            "required_skills": ["sewing"],
            "positions": 5,
            "wage_amount": "2500000",
            "wage_currency": "LAK",
            "wage_period": "month",
            "closes_on": (TODAY + timedelta(days=30)).isoformat(),
        },
    )
    for vacancy in (letter, job):
        await world.write(
            "matching",
            "POST",
            "/v1/vacancies/{vacancy_id}/status",
            "vt_esc",
            {"status": "published"},
            vacancy_id=vacancy["id"],
        )

    async def candidate() -> bool:
        answer = await world.clients["matching"].get(
            f"/v1/candidates/{pid}", headers=world.owners["vt_esc"]
        )
        return answer.status_code == 200 and answer.json()["exclusions"] == []

    await wait_until(candidate, timeout_s=90)
    referral = await world.write(
        "matching",
        "POST",
        "/v1/referrals",
        "vt_esc",
        {"vacancy_id": letter["id"], "person_id": pid},
    )
    world.ids["referral_id"] = referral["id"]
    await world.write(
        "matching",
        "POST",
        "/v1/vacancies/{vacancy_id}/name-list",
        "agent",
        {"entries": [{"person_id": pid}]},
        vacancy_id=letter["id"],
    )
    await world.write(
        "matching",
        "POST",
        "/v1/vacancies/{vacancy_id}/costs",
        "agent",
        {
            "person_id": pid,
            "item": "visa",
            "amount": "2000",
            "currency": "THB",
            "paid_by": "employer",
            "paid_on": (TODAY - timedelta(days=1)).isoformat(),
        },
        vacancy_id=letter["id"],
    )
    await world.write(
        "matching",
        "POST",
        "/v1/vacancies/{vacancy_id}/name-list/{person_id}/withdrawal",
        "agent",
        {"reason": "chose the job at home"},
        vacancy_id=letter["id"],
        person_id=pid,
    )
    local = await world.write(
        "matching",
        "POST",
        "/v1/referrals",
        "vt_esc",
        {"vacancy_id": job["id"], "person_id": pid},
    )
    for status in ("interviewed", "offered"):
        await world.write(
            "matching",
            "POST",
            "/v1/referrals/{referral_id}/status",
            "vt_esc",
            {"status": status},
            referral_id=local["id"],
        )
    placement = await world.write(
        "matching",
        "POST",
        "/v1/referrals/{referral_id}/placement",
        "vt_esc",
        {"starts_on": TODAY.isoformat()},
        referral_id=local["id"],
    )
    world.ids["placement_id"] = placement["id"]
    await world.write(
        "matching",
        "POST",
        "/v1/placements/{placement_id}/end",
        "vt_esc",
        {"ended_on": TODAY.isoformat(), "reason": "the factory closed its day shift"},
        placement_id=placement["id"],
    )


async def _predeparture(world: World, tag: str) -> None:
    """A curriculum of the world's own code; the session the person attended at MRC-VT, closed,
    with their certificate; a cancelled place; an outreach session."""
    client = world.clients["predeparture"]
    pid, migrant = world.ids["person_id"], world.ids["_migrant"]
    curriculum = await world.write(
        "predeparture",
        "POST",
        "/v1/curricula",
        "admin",
        {
            "code": f"AB-{tag}",
            "title_lo": "ທົດລອງ",
            "title_en": "Abuse suite orientation",
            "completion_window_months": 6,
            "validity_months": 12,
            "modules": [{"code": "RIGHTS", "title_lo": "ສິດ", "title_en": "Rights", "hours": "2"}],
        },
    )
    await world.write(
        "predeparture",
        "POST",
        "/v1/curricula/{curriculum_id}/activation",
        "admin",
        curriculum_id=curriculum["id"],
    )
    world.ids["curriculum_id"] = curriculum["id"]

    async def learners() -> bool:
        """Both known, and the person's migration record applied: its automatic invitation
        (to no session: the build cleared upcoming ones) is behind us."""
        for person in (pid, migrant):
            answer = await client.get(f"/v1/learners/{person}", headers=world.owners["vt_mrc"])
            if answer.status_code != 200:
                return False
            if person == pid and answer.json()["migration_status"] != "prospective":
                return False
        return True

    await wait_until(learners, timeout_s=90)
    starts = datetime.now(UTC) + timedelta(days=1)
    orientation = await world.write(
        "predeparture",
        "POST",
        "/v1/sessions",
        "vt_mrc",
        {
            "office_code": "MRC-VT",
            "curriculum_id": str(DEFAULT_CURRICULUM_ID),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=8)).isoformat(),
            "facilitator": "Khamla Vongsa",
            "language": "lo",
            "venue": "LFTU Skills Development Institute, room 2",
            "capacity": 10,
            "planned_modules": THAILAND,
        },
    )
    sid = orientation["id"]
    world.ids["session_id"] = sid
    place = await world.write(
        "predeparture",
        "POST",
        "/v1/sessions/{session_id}/enrolments",
        "vt_mrc",
        {"person_id": pid, "destination_country": "TH"},
        session_id=sid,
    )
    world.ids["enrolment_id"] = place["id"]
    other = await world.write(
        "predeparture",
        "POST",
        "/v1/sessions/{session_id}/enrolments",
        "vt_mrc",
        {"person_id": migrant},
        session_id=sid,
    )
    await world.write(
        "predeparture",
        "POST",
        "/v1/sessions/{session_id}/enrolments/{enrolment_id}/cancellation",
        "vt_mrc",
        {"reason": "cannot travel to Vientiane that day"},
        session_id=sid,
        enrolment_id=other["id"],
    )
    # As if time had passed (the orientation tests do the same): the session ran the eight
    # hours up to an hour ago, so its roster is entered and counts once it is closed.
    conn = await asyncpg.connect(asyncpg_dsn(world.settings.service_database_url("predeparture")))
    try:
        began = datetime.now(UTC) - timedelta(hours=9)
        await conn.execute(
            "UPDATE orientation_sessions SET starts_at = $2, ends_at = $3 WHERE id = $1",
            uuid.UUID(sid),
            began,
            began + timedelta(hours=8),
        )
    finally:
        await conn.close()
    rows = [{"person_id": pid, "module_code": m, "status": "present"} for m in THAILAND]
    await world.write(
        "predeparture",
        "PUT",
        "/v1/sessions/{session_id}/attendance",
        "vt_mrc",
        {"rows": rows},
        session_id=sid,
    )
    await world.write(
        "predeparture",
        "POST",
        "/v1/sessions/{session_id}/status",
        "vt_mrc",
        {"status": "held"},
        session_id=sid,
    )
    closed = await world.write(
        "predeparture",
        "POST",
        "/v1/sessions/{session_id}/status",
        "vt_mrc",
        {"status": "closed"},
        session_id=sid,
    )
    [certificate] = closed["certificates"]["issued"]
    number = certificate["certificate_number"]
    world.ids["certificate_number"] = number
    await world.write(
        "predeparture",
        "POST",
        "/v1/sessions/{session_id}/attendance/corrections",
        "vt_mrc",
        {
            "reason": "the facilitator's sheet had a note",
            "rows": [
                {"person_id": pid, "module_code": "HEALTH", "status": "present", "note": "late"}
            ],
        },
        session_id=sid,
    )
    pdf = await client.get(f"/v1/certificates/{number}.pdf", headers=world.owners["vt_mrc"])
    assert pdf.status_code == 200, pdf.text
    world.ids["code"] = _verification_code(pdf.content)
    outreach = await world.write(
        "predeparture",
        "POST",
        "/v1/outreach",
        "vt_mrc",
        {
            "office_code": "MRC-VT",
            "district": "Xaythany",
            "village": f"Ban Dongdok {tag}",
            "held_on": (TODAY - timedelta(days=1)).isoformat(),
            "facilitator": "Ms Chanthavong",
            "language": "lo",
            "topics": ["safe_migration"],
            "counts": [{"sex": "female", "age_band": "18-24", "people": 7}],
        },
    )
    world.ids["outreach_id"] = outreach["id"]


def _verification_code(pdf: bytes) -> str:
    """The code in the certificate's verification link (its QR code's link annotation)."""
    from tests.predeparture.test_completions import code_in

    return code_in(pdf)


async def _notify(world: World) -> None:
    """The person's welcome SMS and partner A's webhook delivery of their registration."""
    pid = world.ids["person_id"]
    notify = world.clients["notify"]

    async def welcome() -> str | None:
        page = await notify.get(
            "/v1/messages", params={"person_id": pid}, headers=world.owners["vt_esc"]
        )
        assert page.status_code == 200, page.text
        return next((m["id"] for m in page.json()["items"] if m["channel"] == "sms"), None)

    async def delivery() -> str | None:
        page = await notify.get("/v1/partners/me/deliveries", headers=world.owners["partner"])
        assert page.status_code == 200, page.text
        items = page.json()["items"]
        return items[-1]["id"] if items else None

    world.ids["message_id"] = await wait_until(welcome, timeout_s=90)
    world.ids["delivery_id"] = await wait_until(delivery, timeout_s=90)
    world.ids.update(key="welcome", channel="sms", language="lo")


# -- the console, over the same services ---------------------------------------------------------


@pytest.fixture(scope="package")
async def console(world: World) -> AsyncIterator[FastAPI]:
    """The console in-process, its calls routed to the services' apps (as tests/console). Its
    sign-in sessions live in a database of its own (another prefix), which it drops when done:
    tests/console keeps the session's console database for the whole run."""
    settings = world.settings.model_copy(
        update={
            "console_strict_translations": True,
            "database_prefix": f"{world.settings.database_prefix}ab_",
        }
    )
    await prepare_databases(settings, [load("console")])
    async with contextlib.AsyncExitStack() as stack:
        services = {}
        for name in ("registry", "matching", "notify"):
            app = create_app(SERVICES[name], world.settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            services[name] = app
        app = create_app(load("console"), settings)
        app.state.console_transports = {
            name: httpx.ASGITransport(app=service, raise_app_exceptions=False)
            for name, service in services.items()
        }
        await stack.enter_async_context(app.router.lifespan_context(app))
        yield app
    await drop_database(settings, "console")
