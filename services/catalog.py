"""Every labourx service, for the CLI, the dev runner and the tests.

A service's code is imported only when its spec is asked for: a process that runs one service
(or only a relay, which needs none) does not load the other three, and the dev runner's
supervisor loads none at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from shared.settings import SERVICES as NAMES

if TYPE_CHECKING:
    from shared.service import ServiceSpec

# Where `labourx dev` serves each API (plus --port-offset), and what `labourx api` and
# `labourx seed` assume when not told otherwise.
DEV_PORTS: dict[str, int] = {
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

    def __getitem__(self, name: str) -> ServiceSpec:
        return load(name)

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)


SERVICES: Mapping[str, ServiceSpec] = _Catalogue()
