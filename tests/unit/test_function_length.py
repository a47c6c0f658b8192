"""No function over 60 lines (issue 18): a longer one is split into named steps, each a place to
read, test and change alone. Counted from the first statement after the docstring to the last
line, nested functions included; frozen migrations are history and not counted."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 60


def _length(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = function.body
    first = body[0]
    documented = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
        and len(body) > 1
    )
    start = body[1].lineno if documented else first.lineno
    return (function.end_lineno or start) - start + 1


def _too_long(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations/versions" in path.as_posix():
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if (lines := _length(node)) > MAX_LINES:
                found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({lines})")
    return found


def test_no_function_in_the_product_is_over_sixty_lines() -> None:
    too_long = [f for top in ("labourx", "shared", "services") for f in _too_long(REPO / top)]
    assert not too_long, too_long


def test_the_count_finds_a_long_function_and_not_its_docstring(tmp_path: Path) -> None:
    statements = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    docstring = '    """A docstring\n    of two lines."""\n'
    (tmp_path / "fits.py").write_text(f"def fits():\n{docstring}{statements}\n")
    (tmp_path / "long.py").write_text(f"def long():\n{statements}\n    x = 0\n")
    assert _too_long(tmp_path) == [f"long.py:1 long ({MAX_LINES + 1})"]
