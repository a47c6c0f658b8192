"""What each kind of process loads: a relay and the dev runner's supervisor stay light, and a
process of one service does not load the other three (issue 14: `make run` on an office laptop).

Checked in a fresh interpreter per case, by the modules it ends up holding, not by timing.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import REPO


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


HEAVY = {"sqlalchemy", "fastapi", "uvicorn", "jinja2", "laonlp", "fpdf", "rapidfuzz"}


def _loaded(modules: set[str], roots: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in roots}


def test_a_relay_process_loads_no_orm_web_framework_or_service_code() -> None:
    modules = _modules_after(
        "import labourx.cli, shared.runtime, shared.outbox.relay\n"
        "from shared.outbox.relay import OutboxRelay"
    )
    assert not _loaded(modules, HEAVY), sorted(_loaded(modules, HEAVY))
    assert not [m for m in modules if m.startswith("services.")]


def test_the_dev_supervisor_loads_no_service_code() -> None:
    modules = _modules_after("import labourx.cli, shared.devrun, labourx.catalog")
    assert not _loaded(modules, HEAVY), sorted(_loaded(modules, HEAVY))
    assert not [m for m in modules if m.startswith("services.") and m != "labourx.catalog"]


@pytest.mark.parametrize("service", ["registry", "matching", "predeparture", "notify"])
def test_one_service_loads_only_its_own_code(service: str) -> None:
    modules = _modules_after(f"from labourx.catalog import load\nload({service!r})")
    others = {m.split(".")[1] for m in modules if m.startswith("services.") and m.count(".")}
    assert others <= {service, "catalog"}, others


def test_printing_and_lao_dictionaries_load_on_first_use_not_at_start() -> None:
    """fpdf2 (with fontTools, Pillow, HarfBuzz) and laonlp's dictionary weigh about 80 MB: a
    service loads them when it first prints or romanises a Lao name."""
    modules = _modules_after(
        "from labourx.catalog import load\nfor s in ('registry', 'predeparture'): load(s)"
    )
    assert not _loaded(modules, {"fpdf", "laonlp", "segno", "PIL", "uharfbuzz"})
    used = _modules_after(
        "from shared.reference.names import romanise_lao\nromanise_lao('ສົມສັກ')\n"
        "from shared.printing import document\ndocument()"
    )
    assert {"fpdf", "laonlp"} <= {m.split(".")[0] for m in used}
