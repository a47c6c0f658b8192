"""Every `LABOURX_*` name the README and docs/ tell an operator to set is a real setting: a
misspelt or renamed one in docs/security.md's production list would be set and silently
ignored (pydantic-settings drops unknown variables)."""

from __future__ import annotations

import re

from shared.settings import Settings
from tests.support import REPO

# Named in the docs on purpose, and not settings of the services.
NOT_SETTINGS = {
    "LABOURX_IMAGE": "docker-compose.yml's image tag (docs/operations.md, upgrades)",
    "LABOURX_FUZZ_EXAMPLES": "the contract fuzzer's depth (tests/contract_fuzz)",
    "LABOURX_FUZZ_SEED": "the contract fuzzer's seed (tests/contract_fuzz)",
    "LABOURX_PARTNER_SECRET_KEY": "the setting before issue 16, in the upgrade steps",
}


def test_every_setting_the_docs_name_exists() -> None:
    settings = {f"LABOURX_{name.upper()}" for name in Settings.model_fields}
    unknown: dict[str, set[str]] = {}
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for name in set(re.findall(r"LABOURX_[A-Z0-9_]+", doc.read_text())):
            # `LABOURX_RATE_LIMIT_…`: a family, named by its prefix.
            family = name.endswith("_") and any(s.startswith(name) for s in settings)
            if name not in settings and name not in NOT_SETTINGS and not family:
                unknown.setdefault(name, set()).add(doc.name)
    assert not unknown, f"named in the docs but not settings: {unknown}"
