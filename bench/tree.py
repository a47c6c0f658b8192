"""What the bench needs from the tree it measures, wherever that tree keeps it.

The bench can be copied into an older checkout to measure it with today's method (issue 19:
"before" figures of the last landed commit, on the same machine in the same session). Since
then the command line and the catalogue of services moved from shared/ and services/ to
labourx/; this module finds them in either place.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shared.spec import ServiceSpec

# Looked for in this tree, not on sys.path: the virtual environment's editable install puts the
# main checkout on it, so an older checkout would find the main checkout's labourx/ there.
_MOVED = (Path(__file__).resolve().parents[1] / "labourx" / "cli.py").exists()
CLI_MODULE = "labourx.cli" if _MOVED else "shared.cli"
_CATALOG = importlib.import_module("labourx.catalog" if _MOVED else "services.catalog")
SERVICES: Mapping[str, ServiceSpec] = _CATALOG.SERVICES
ALL: Mapping[str, ServiceSpec] = _CATALOG.ALL
