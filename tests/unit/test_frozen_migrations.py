"""Alembic revisions are history: what a revision creates and inserts must not change when live
code does, so a revision imports no services code and, from shared, only the table helpers
that are frozen (each a fixed piece of DDL that several services' first revisions share)."""

from __future__ import annotations

import ast
from pathlib import Path

from shared import migrations
from shared.outbox import NOTIFY_CHANNEL

REVISIONS = sorted(Path(__file__).parents[2].glob("services/*/migrations/versions/*.py"))
# shared.migrations' DDL helpers: frozen by rule (a change to a table is a new helper), and
# shared by every service's backbone and rate-limit revisions, so not copied five times.
FROZEN_SHARED = {
    "shared.migrations": {
        "create_backbone_tables",
        "drop_backbone_tables",
        "create_rate_limit_table",
        "drop_rate_limit_table",
    },
}


def _imports(path: Path) -> list[tuple[str, set[str]]]:
    """(module, names imported from it) of every import statement in the file."""
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, set()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", {alias.name for alias in node.names}))
    return found


def test_revisions_import_no_live_code() -> None:
    assert len(REVISIONS) > 20, "revision files not found"
    live = []
    for path in REVISIONS:
        for module, names in _imports(path):
            top = module.split(".")[0]
            if top == "services" or (
                top == "shared" and not (names and names <= FROZEN_SHARED.get(module, set()))
            ):
                live.append(f"{path.relative_to(path.parents[4])}: {module} {sorted(names)}")
    assert not live, (
        "revisions importing live code (copy the data or table definitions into the revision,"
        f" or a file beside it in migrations/frozen/): {live}"
    )


def test_the_frozen_outbox_channel_is_the_one_the_relay_listens_on() -> None:
    assert migrations.OUTBOX_NOTIFY_CHANNEL == NOTIFY_CHANNEL, (
        "the relay listens on a new channel: add a revision to every service that replaces"
        " outbox_notify() with one signalling it, then change the frozen name for new databases"
    )
