"""Role aliases are declared in one place per service (issue 18, point 6).

Who a route admits is read from its parameter's alias (`principal: Admin`). The aliases every
service uses (`Admin`, `OfficeStaff`, `Reader`) are in shared/auth.py; a service's own are in
its scope.py, with the rest of who may see and do what. A `require_roles(...)` written in a
feature would be a second, silent definition of who an alias admits.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _calls_require_roles(path: Path) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "require_roles")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "require_roles")
        )
    ]


def test_roles_are_required_only_in_shared_auth_and_the_services_scope_modules() -> None:
    allowed = {REPO / "shared" / "auth.py"} | set((REPO / "services").glob("*/scope.py"))
    wrong = [
        f"{path.relative_to(REPO)}:{line}"
        for folder in ("shared", "services")
        for path in sorted((REPO / folder).rglob("*.py"))
        if path not in allowed
        for line in _calls_require_roles(path)
    ]
    assert not wrong, (
        "declare the alias in shared/auth.py or the service's scope.py:\n" + "\n".join(wrong)
    )
