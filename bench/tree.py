"""What the bench needs from the tree it measures, wherever that tree keeps it.

The bench can be copied into an older checkout to measure it with today's method (issue 19:
"before" figures of the last landed commit, on the same machine in the same session). Since
then the command line and the catalogue of services moved from shared/ and services/ to
labourx/; this module finds them in either place.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.spec import ServiceSpec

CLI_MODULE = "labourx.cli" if importlib.util.find_spec("labourx.cli") else "shared.cli"
_CATALOG = importlib.import_module(
    "labourx.catalog" if importlib.util.find_spec("labourx.catalog") else "services.catalog"
)
SERVICES: Mapping[str, ServiceSpec] = _CATALOG.SERVICES
ALL: Mapping[str, ServiceSpec] = _CATALOG.ALL
