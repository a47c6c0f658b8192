"""Fault tests get servers of their own: they stop the broker and kill processes.

Each module gets a fresh Tansu broker (one it may stop and start, which an externally
configured broker is not) and its own databases on the session's PostgreSQL, so faults never
leak into other tests' topics, consumer groups or rows.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from labourx.catalog import SERVICES
from shared.db import drop_database
from shared.infra import TansuBroker, free_port
from shared.provision import prepare_databases, prepare_topics
from tests.support import registry_listening

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from shared.settings import Settings


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    tansu = TansuBroker(log_path=tmp_path_factory.mktemp("tansu") / "tansu.log")
    tansu.start()
    yield tansu
    tansu.stop()


@pytest.fixture(scope="module")
async def isolated(settings: Settings, own_broker: TansuBroker) -> AsyncIterator[Settings]:
    """Settings pointing at this module's broker and freshly migrated databases."""
    isolated = settings.model_copy(
        update={
            "database_prefix": f"lxf_{uuid.uuid4().hex[:8]}_",
            # Registry's API on these databases (below), where consumers fetch person keys.
            "registry_url": f"http://127.0.0.1:{free_port()}",
            "kafka_bootstrap_servers": own_broker.bootstrap_servers,
            # Killed members are noticed sooner, so the many restarts here stay quick.
            "consumer_session_timeout_ms": 3000,
            "consumer_heartbeat_interval_ms": 500,
        }
    )
    await prepare_databases(isolated, SERVICES.values())
    await prepare_topics(isolated, SERVICES.values())
    async with registry_listening(isolated):
        yield isolated
    for name in SERVICES:
        await drop_database(isolated, name)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path
