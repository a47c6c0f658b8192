"""The fuzzer writes whatever its documents allow (templates, vacancies, partners...) with a
staff or an admin token, so it gets databases of its own: a fuzzed template made active for
`offer` must not change what another test of the same worker expects an SMS to say."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from labourx.catalog import SERVICES
from shared.db import drop_database
from shared.provision import prepare_databases

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from shared.settings import Settings


@pytest.fixture(scope="package")
async def fuzzed(migrated: Settings) -> AsyncIterator[Settings]:
    """The session's settings with databases of the fuzzer's own (another prefix), migrated to
    head like the session's; dropped when the package is done."""
    settings = migrated.model_copy(update={"database_prefix": f"{migrated.database_prefix}fz_"})
    await prepare_databases(settings, SERVICES.values())
    yield settings
    for name in SERVICES:
        await drop_database(settings, name)
