"""Every labourx service, for the CLI, the dev runner and the tests.

A service's code is imported only when its spec is asked for: a process that runs one service
(or only a relay, which needs none) does not load the other three, and the dev runner's
supervisor loads none at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from shared.settings import DATA_SERVICES
from shared.settings import SERVICES as NAMES

if TYPE_CHECKING:
    from shared.spec import ServiceSpec

# Where `labourx dev` serves each API (plus --port-offset), and what `labourx api` and
# `labourx seed` assume when not told otherwise.
# The console comes first: it is the address a person opens.
DEV_PORTS: dict[str, int] = {
    "console": 8100,
    "registry": 8101,
    "matching": 8102,
    "predeparture": 8103,
    "notify": 8104,
}


def load(name: str) -> ServiceSpec:
    """The spec of one service, importing its code (and only its code)."""
    if name not in NAMES:
        raise KeyError(f"unknown service {name!r}; one of {', '.join(NAMES)}")
    spec: ServiceSpec = importlib.import_module(f"services.{name}.app").SPEC
    return spec


class _Catalogue(Mapping[str, "ServiceSpec"]):
    """name → spec, in the order services are started; each loaded on first access."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def __getitem__(self, name: str) -> ServiceSpec:
        if name not in self.names:
            raise KeyError(name)
        return load(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


# The four services that own the data and its events, each deployed as API, relay and consumer
# processes (what `labourx topics` prepares, and tests/deploy checks apart from the console's
# own deployment). `ALL` adds the console (its sessions' database: `labourx migrate` migrates
# every service in ALL).
SERVICES: Mapping[str, ServiceSpec] = _Catalogue(DATA_SERVICES)
# Every service, the console included.
ALL: Mapping[str, ServiceSpec] = _Catalogue(NAMES)
