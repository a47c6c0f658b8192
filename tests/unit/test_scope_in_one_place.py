"""Who sees what is decided in each service's scope module only (issue 18: "province/agency
checks only through each service's scope module").

A feature asks its service's `scope.py` (`Actor` in matching, the functions of the others); it
does not compare provinces, offices or agencies itself, nor call the principal's scope checks
(`can_see_province`, `serves`, ...), nor write the serving-offices condition into SQL. This test
reads every module of services/ but the scope modules and names each place that does.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"

# The principal's own scope checks (shared/auth.py) and the scope modules' own primitives.
SCOPE_CALLS = frozenset({"can_see_province", "require_province", "serves", "require_serves"})
# Read anywhere, these decide by national scope.
SCOPE_ATTRIBUTES = frozenset({"sees_all_provinces"})
# What a principal or an actor is scoped by; tested in a condition, that is a scope decision.
SCOPED_BY = frozenset({"province", "office", "agency", "agency_id", "national"})
# The names a principal or an actor goes by in the services.
HOLDERS = frozenset({"principal", "actor", "officer"})
# The serving-offices condition written by hand into SQL text.
SCOPE_SQL = re.compile(r"ANY\(\s*\w+\.serving_offices\s*\)|:scope_\w+")


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _scoped_attribute(node: ast.AST) -> bool:
    """`principal.province`, `actor.agency_id`, `actor.principal.office`, ..."""
    return (
        isinstance(node, ast.Attribute) and node.attr in SCOPED_BY and _root(node.value) in HOLDERS
    )


def _tested(node: ast.expr) -> list[ast.expr]:
    """The parts of a tested expression: each operand of `and`, `or` and `not`."""
    if isinstance(node, ast.BoolOp):
        return [part for value in node.values for part in _tested(value)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _tested(node.operand)
    return [node]


def _conditions(tree: ast.AST) -> list[ast.expr]:
    """Every expression a branch, a filter, a comparison or an `and` tests (not the fallback
    of an `or` outside a branch: `data.office_code or principal.office` picks a value)."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If | ast.IfExp | ast.While | ast.Assert):
            found += _tested(node.test)
        elif isinstance(node, ast.comprehension):
            found += [part for test in node.ifs for part in _tested(test)]
        elif isinstance(node, ast.Compare):
            found += [node.left, *node.comparators]
        elif isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            found += _tested(node)
    return found


def scope_decisions(source: str) -> list[tuple[int, str]]:
    """(line, what) for each place in `source` that decides by scope itself."""
    tree = ast.parse(source)
    hits: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SCOPE_CALLS
        ):
            hits.append((node.lineno, f"calls {node.func.attr}()"))
        elif isinstance(node, ast.Attribute) and node.attr in SCOPE_ATTRIBUTES:
            hits.append((node.lineno, f"reads {node.attr}"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SCOPE_SQL.search(node.value)
        ):
            hits.append((node.lineno, "writes the serving-offices condition into SQL"))
    for condition in _conditions(tree):
        if _scoped_attribute(condition):
            hits.append((condition.lineno, f"tests {ast.unparse(condition)}"))
    return sorted(set(hits))


def _feature_modules() -> list[Path]:
    return sorted(
        path
        for path in SERVICES.rglob("*.py")
        if path.name != "scope.py" and "migrations" not in path.relative_to(SERVICES).parts
    )


def test_features_leave_scope_decisions_to_the_scope_module() -> None:
    found = [
        f"services/{path.relative_to(SERVICES)}:{line}: {what}"
        for path in _feature_modules()
        for line, what in scope_decisions(path.read_text(encoding="utf-8"))
    ]
    assert not found, (
        "scope decided outside the service's scope.py (add a named check there and call it):\n"
        + "\n".join(found)
    )


def test_every_service_with_scope_has_a_scope_module() -> None:
    for service in ("matching", "notify", "predeparture", "registry"):
        assert (SERVICES / service / "scope.py").is_file(), service


def test_the_check_finds_each_kind_of_scope_decision() -> None:
    source = """
def f(principal, actor, row, vacancy):
    if principal.can_see_province(row.province_code):
        pass
    if principal.sees_all_provinces:
        pass
    actor.require_serves(row.province_code, row.serving_offices)
    query = select(Complaint).where(Complaint.office_code == actor.principal.office)
    if actor.is_agency and actor.agency_id != vacancy.agency_id:
        pass
    mine = [r for r in rows if r.province == principal.province]
    sql = ":office = ANY(c.serving_offices)"
    while not principal.office:
        pass
"""
    assert [line for line, _ in scope_decisions(source)] == [3, 5, 7, 8, 9, 11, 12, 13]


def test_the_check_leaves_recording_and_filters_alone() -> None:
    source = """
def f(principal, actor, filters):
    entry = Entry(office_code=actor.principal.office, national=principal.national)
    office_code = filters.office_code or principal.office
    detail = f"yours: {principal.province or 'none'}"
    query = select(Vacancy).where(Vacancy.province_code == filters.province_code)
    actor.require_serves_candidate(candidate)
"""
    assert scope_decisions(source) == []
