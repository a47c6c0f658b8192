"""Services are given what they work with, as routes are given their dependencies: a handler or
a job pass its `shared.work.Work` (settings, session factory, the runner's resources), a route
its `SettingsDep`. None of them reaches for it:

- no `get_settings()`: the process's global settings are not the ones a test, a bench or a
  second app in the process gave the code;
- no `.bind` of a session to recover the engine: `work.sessions` is the factory;
- no `id(...)`: a cache keyed by an object's id outlives the object (ids are reused) and lives
  in a module rather than in the runner that should close it (`Work.resource`).

Alembic revisions are left out: they run in their own process, outside any service."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _modules() -> list[Path]:
    return sorted(
        path for path in (REPO / "services").rglob("*.py") if "migrations" not in path.parts
    )


def _reaching(path: Path, root: Path = REPO) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call):
            called = node.func
            name = called.id if isinstance(called, ast.Name) else getattr(called, "attr", None)
            if name == "get_settings":
                found.append(f"{where}: get_settings() (take the settings given)")
            elif isinstance(called, ast.Name) and called.id == "id":
                found.append(f"{where}: id(...) (key by a value, keep resources in the runner)")
        elif isinstance(node, ast.Attribute) and node.attr == "bind":
            found.append(f"{where}: .bind (use the session factory given, work.sessions)")
        elif isinstance(node, ast.ImportFrom) and any(a.name == "get_settings" for a in node.names):
            found.append(f"{where}: imports get_settings")
    return found


def test_services_neither_read_global_settings_nor_recover_engines_nor_key_by_id() -> None:
    wrong = [line for path in _modules() for line in _reaching(path)]
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_what_it_forbids(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from shared.settings import get_settings\n"
        "_cache = {}\n"
        "def f(session, settings):\n"
        "    engine = session.bind\n"
        "    _cache[(id(settings), id(engine))] = get_settings()\n"
    )
    reasons = [line.split(": ", 1)[1] for line in _reaching(sample, tmp_path)]
    assert sorted(r.split(" ")[0] for r in reasons) == [
        ".bind",
        "get_settings()",
        "id(...)",
        "id(...)",
        "imports",
    ]
