"""`labourx seed` against real registry and matching APIs: what it asks for arrives through the
APIs, a re-run with the same seed creates nothing twice, and failures stop it loudly."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import pytest

from labourx.catalog import SERVICES
from shared.db import drop_database
from shared.infra import free_port, wait_for_port
from shared.provision import prepare_databases
from shared.seed import SUBJECT
from tests.production_secrets import JWT_SECRET, KEYS_ENV
from tests.support import REPO, fetchval, settings_env, spawn_cli, stop_process

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from shared.settings import Settings

pytestmark = pytest.mark.slow

SMALL = ["--people", "40", "--employers", "5", "--agencies", "3", "--vacancies", "20"]
COUNTS = {
    "people": ("registry", "SELECT count(*) FROM people WHERE registered_by = $1"),
    "consents given": (
        "registry",
        "SELECT count(*) FROM consents WHERE recorded_by = $1 AND purpose = 'job_matching'"
        " AND status = 'given'",
    ),
    "migration records": (
        "registry",
        "SELECT count(*) FROM migration_records WHERE created_by = $1 AND status = 'prospective'",
    ),
    "employers": ("matching", "SELECT count(*) FROM employers WHERE created_by = $1"),
    "agencies": ("matching", "SELECT count(*) FROM agencies WHERE created_by = $1"),
    "vacancies": ("matching", "SELECT count(*) FROM vacancies WHERE created_by = $1"),
    "overseas": (
        "matching",
        "SELECT count(*) FROM vacancies WHERE created_by = $1 AND kind = 'overseas'",
    ),
    "published": (
        "matching",
        "SELECT count(*) FROM vacancies WHERE created_by = $1 AND status = 'published'",
    ),
    # Demand letters recruited through an agency not licensed for their country: none.
    "unlicensed": (
        "matching",
        "SELECT count(*) FROM vacancies v JOIN agencies a ON a.id = v.agency_id"
        " WHERE v.created_by = $1 AND NOT v.destination_country = ANY(a.destinations)",
    ),
}


@pytest.fixture(scope="module")
async def own(migrated: Settings) -> AsyncIterator[Settings]:
    """Databases of their own: synthetic people (common Lao names among them) must not turn up
    in other tests' queries, as their events would once some relay published them."""
    settings = migrated.model_copy(update={"database_prefix": f"{migrated.database_prefix}seed_"})
    specs = [SERVICES["registry"], SERVICES["matching"]]
    await prepare_databases(settings, specs)
    yield settings
    for spec in specs:
        await drop_database(settings, spec.name)


@pytest.fixture(scope="module")
def apis(own: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """`labourx api registry` and `labourx api matching` as processes: the seed's URL options."""
    logs = tmp_path_factory.mktemp("seed-apis")
    ports = {"registry": free_port(), "matching": free_port()}
    processes = [
        spawn_cli(["api", name, "--port", str(port)], own, logs / f"{name}.log")
        for name, port in ports.items()
    ]
    try:
        for port in ports.values():
            wait_for_port("127.0.0.1", port, timeout_s=60)
        yield [f"--{name}-url=http://127.0.0.1:{port}" for name, port in ports.items()]
    finally:
        for process in processes:
            stop_process(process)


async def labourx_seed(settings: Settings, *args: str, **env: str) -> tuple[int, str]:
    """Run `labourx seed` as its own process; its exit code and what it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "labourx.cli",
        "seed",
        *args,
        cwd=REPO,
        env=settings_env(settings) | env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def seeded(settings: Settings) -> dict[str, int]:
    return {
        name: await fetchval(settings, service, query, SUBJECT)
        for name, (service, query) in COUNTS.items()
    }


async def test_seed_fills_both_services_through_their_apis_and_a_rerun_creates_nothing_twice(
    apis: list[str], own: Settings
) -> None:
    code, output = await labourx_seed(own, *SMALL, "--seed", "7", *apis)
    assert code == 0, output
    first = await seeded(own)
    assert first["people"] == 40, output
    assert first["employers"] == 5, output
    assert first["agencies"] == 3, output
    assert first["vacancies"] == 20, output
    assert 20 <= first["consents given"] < 40, output  # most, not all
    assert first["migration records"] >= 1, output
    assert 1 <= first["overseas"] < 20, output
    assert first["unlicensed"] == 0
    assert 14 <= first["published"] < 20, output  # most; the others wait as drafts
    assert f"{first['published']} published" in output

    code, again = await labourx_seed(own, *SMALL, "--seed", "7", *apis)
    assert code == 0, again
    assert await seeded(own) == first
    summary = [line for line in again.splitlines() if line.startswith("  ")]
    assert len(summary) == 4, again
    assert all(" 0 created;" in line for line in summary), again

    # The same seed asked for more people adds only the difference.
    more_people = ["--people", "50", "--employers", "5", "--agencies", "3", "--vacancies", "0"]
    code, more = await labourx_seed(own, *more_people, "--seed", "7", *apis)
    assert code == 0, more
    assert (await seeded(own))["people"] == 50, more


async def test_seed_refuses_a_production_system_without_force(
    apis: list[str], own: Settings
) -> None:
    before = await seeded(own)
    code, output = await labourx_seed(
        own,
        "--people",
        "5",
        *apis,
        LABOURX_ENV="production",
        LABOURX_JWT_SECRET=JWT_SECRET,
        LABOURX_PUBLIC_BASE_URL="https://labourx.example.la",
        **KEYS_ENV,
    )
    assert code != 0
    assert "LABOURX_ENV=production" in output
    assert "--force" in output
    assert await seeded(own) == before


async def test_seed_stops_and_shows_the_problem_when_an_api_refuses_it(
    apis: list[str], own: Settings
) -> None:
    code, output = await labourx_seed(
        own, "--people", "5", *apis, LABOURX_JWT_SECRET="not-the-secret-the-apis-verify-with"
    )
    assert code == 1, output
    assert "answered 401" in output
    assert '"type": "https://labourx.la/problems/unauthorized"' in output  # the problem+json
    assert "Traceback" not in output


async def test_seed_stops_with_a_clear_message_when_an_api_is_unreachable(
    migrated: Settings,
) -> None:
    nobody = free_port()
    code, output = await labourx_seed(
        migrated,
        "--people",
        "5",
        f"--registry-url=http://127.0.0.1:{nobody}",
        f"--matching-url=http://127.0.0.1:{nobody}",
    )
    assert code == 1, output
    assert f"cannot reach http://127.0.0.1:{nobody}" in output
    assert "Traceback" not in output
