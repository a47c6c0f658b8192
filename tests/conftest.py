"""Real PostgreSQL and a real Kafka-protocol broker for every integration test.

`LABOURX_DATABASE_URL` / `LABOURX_KAFKA_BOOTSTRAP_SERVERS` point at existing servers when set;
otherwise an embedded PostgreSQL and a Tansu broker are started here. Each test session gets
databases of its own (a unique prefix), dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from labourx.catalog import SERVICES
from shared.app import create_app
from shared.auth import mint_token
from shared.db import drop_database
from shared.infra import EmbeddedPostgres, TansuBroker, free_port
from shared.kafka import make_producer
from shared.provision import prepare_databases, prepare_topics
from shared.settings import Settings
from tests.support import postgres_data_dir, registry_listening, running_consumer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from aiokafka import AIOKafkaProducer
    from fastapi import FastAPI


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("LABOURX_DATABASE_URL"):
        yield url
        return
    with postgres_data_dir("test-pg") as folder:
        server = EmbeddedPostgres(folder / "data")
        yield server.start()
        server.stop()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker | str]:
    """A Tansu broker the tests may stop and start, or the configured external broker."""
    if servers := os.environ.get("LABOURX_KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
        return
    tansu = TansuBroker(log_path=tmp_path_factory.mktemp("tansu") / "tansu.log")
    tansu.start()
    yield tansu
    tansu.stop()


@pytest.fixture(scope="session")
def settings(database_url: str, broker: TansuBroker | str) -> Settings:
    servers = broker if isinstance(broker, str) else broker.bootstrap_servers
    return Settings(
        env="test",
        database_url=database_url,
        database_prefix=f"lxt_{uuid.uuid4().hex[:8]}_",
        kafka_bootstrap_servers=servers,
        consumer_session_timeout_ms=6000,
        consumer_stall_timeout_s=10,
        consumer_retry_base_s=0.05,
        relay_poll_interval_s=0.5,
        db_pool_size=5,
        db_max_overflow=5,
        # Registry's API as `migrated` serves it, for consumers fetching person keys.
        registry_url=f"http://127.0.0.1:{free_port()}",
    )


@pytest.fixture(scope="session")
async def migrated(settings: Settings) -> AsyncIterator[Settings]:
    """Every service database created and migrated to head; dropped after the session."""
    await prepare_databases(settings, SERVICES.values())
    await prepare_topics(settings, SERVICES.values())
    async with registry_listening(settings):
        yield settings
    for name in SERVICES:
        await drop_database(settings, name)


@pytest.fixture(scope="session")
async def producer(migrated: Settings) -> AsyncIterator[AIOKafkaProducer]:
    """A producer for tests that publish events as another service's relay would."""
    producer = make_producer(migrated)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture(scope="session")
async def notify_consumer(migrated: Settings) -> AsyncIterator[None]:
    """Notify's consumer group running as its process would, for every test that needs it (one
    member for the whole session: members joining and leaving would make the group rebalance)."""
    async with running_consumer(SERVICES["notify"], migrated):
        yield


# One member per group for the session, as for notify: a second member started by another
# module on the same broker and databases (the end-to-end flows did) made the group rebalance,
# and Tansu's rebalances could leave it unassigned for minutes.


@pytest.fixture(scope="session")
async def registry_consumer(migrated: Settings) -> AsyncIterator[None]:
    async with running_consumer(SERVICES["registry"], migrated):
        yield


@pytest.fixture(scope="session")
async def matching_consumer(migrated: Settings) -> AsyncIterator[None]:
    async with running_consumer(SERVICES["matching"], migrated):
        yield


@pytest.fixture(scope="session")
async def predeparture_consumer(migrated: Settings) -> AsyncIterator[None]:
    async with running_consumer(SERVICES["predeparture"], migrated):
        yield


@pytest.fixture(scope="session")
def staff_token(settings: Settings) -> str:
    return mint_token(
        settings, subject="officer-vt-1", roles=["esc_staff"], office="ESC-VT", province="LA-VT"
    )


@pytest.fixture(scope="session")
def auth(staff_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token}"}


async def _client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture(scope="session")
async def registry_client(migrated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client_for(create_app(SERVICES["registry"], migrated)):
        yield client


@pytest.fixture(scope="session")
async def matching_client(migrated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client_for(create_app(SERVICES["matching"], migrated)):
        yield client


@pytest.fixture(scope="session")
async def predeparture_client(migrated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client_for(create_app(SERVICES["predeparture"], migrated)):
        yield client


@pytest.fixture(scope="session")
async def notify_client(migrated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client_for(create_app(SERVICES["notify"], migrated)):
        yield client


@pytest.fixture(scope="session")
def service_clients(
    registry_client: httpx.AsyncClient,
    matching_client: httpx.AsyncClient,
    predeparture_client: httpx.AsyncClient,
    notify_client: httpx.AsyncClient,
) -> dict[str, httpx.AsyncClient]:
    """Every service's client by name, for tests that walk all four."""
    return {
        "registry": registry_client,
        "matching": matching_client,
        "predeparture": predeparture_client,
        "notify": notify_client,
    }


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """A folder for the logs of processes a test starts (kept on failure by pytest)."""
    return tmp_path
