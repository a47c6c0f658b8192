"""The layers stay layered: the shared kit knows no service, no service knows another, and only
the composition root (`labourx/`: the command line and the catalogue) knows them all.

Every import counts, the ones inside functions too: a lazy import is still a dependency, and it
was one (`shared/cli.py` loading `services.catalog`) that put the composition root in the kit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (REPO / "services").iterdir() if (p / "__init__.py").exists())


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _top(module: str, depth: int) -> str:
    return ".".join(module.split(".")[:depth])


def test_the_shared_kit_imports_no_service_and_not_the_composition_root() -> None:
    wrong = {
        f"{path.relative_to(REPO)}: {module}"
        for path in _modules(REPO / "shared")
        for module in _imports(path)
        if _top(module, 1) in {"services", "labourx"}
    }
    assert not wrong, sorted(wrong)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service_and_not_the_composition_root(service: str) -> None:
    wrong = {
        f"{path.relative_to(REPO)}: {module}"
        for path in _modules(REPO / "services" / service)
        for module in _imports(path)
        if _top(module, 1) == "labourx"
        or (_top(module, 1) == "services" and _top(module, 2) != f"services.{service}")
    }
    assert not wrong, sorted(wrong)


def test_every_service_is_checked() -> None:
    assert {"registry", "matching", "predeparture", "notify", "console"} <= set(SERVICES)
