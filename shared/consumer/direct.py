"""Hot statements of consumers' handlers, run on the transaction's own asyncpg connection.

Through the session, a statement costs about 0.1 ms of CPU in SQLAlchemy (the compiled cache's
key, parameter processing, result objects, greenlet switches) on top of asyncpg's 0.03: most of
what a consumer spends per event (issue 19's profile). A `Direct` is a Core statement, written
as any other, compiled once (per set of parameter names) and then run with its parameters on
`shared.db.driver_connection`, in the same transaction; its rows are asyncpg's records.

What the session would add, this adds too: the ORM's pending changes are flushed first (a
statement run here is no autoflush), parameters go through their types' bind processing (JSON
is serialised as SQLAlchemy serialises it), and a column's scalar default fills an INSERT's
value not given. What it cannot do, it refuses when compiling: an `IN` of a list (expanding;
use `= ANY(...)` with an array), a Python function as a column's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.db import driver_connection

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import asyncpg
    from sqlalchemy.engine import Dialect
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql.expression import Executable

_REQUIRED = object()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # In positional order: each parameter's name, bind processor, and value when not given.
    params: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]
    # Every parameter is one the caller gives (none filled in) and none is processed.
    plain: bool
    names: tuple[str, ...]

    def args(self, given: Mapping[str, Any]) -> list[Any]:
        if self.plain:  # no processing, every parameter given: the common case
            return [given[name] for name in self.names]
        args = []
        for name, process, otherwise in self.params:
            value = given.get(name, otherwise)
            if value is _REQUIRED:
                raise KeyError(f"parameter {name!r} is required")
            args.append(process(value) if process is not None and value is not None else value)
        return args


def _compiled(statement: Executable, dialect: Dialect, names: tuple[str, ...]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(names))  # type: ignore[attr-defined]
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("a Direct statement takes no expanding parameter: use = ANY(array)")
    defaults: dict[str, Any] = {}
    for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
        if column.key in names:
            continue
        default = column.onupdate if column in compiled.update_prefetch else column.default
        if default is None or not default.is_scalar:
            raise ValueError(f"column {column.key!r} has a Python default: give it as a parameter")
        defaults[column.key] = default.arg
    params = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        if name in defaults:
            otherwise = defaults[name]
        elif name in names or bind.required:
            otherwise = _REQUIRED
        else:
            otherwise = bind.effective_value
        params.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect), otherwise))
    plain = all(process is None and otherwise is _REQUIRED for _, process, otherwise in params)
    order = tuple(name for name, _, _ in params)
    return _Compiled(compiled.string, tuple(params), plain, order)


async def _connection(session: AsyncSession) -> asyncpg.Connection:
    """The transaction's driver connection (`driver_connection` keeps it for the transaction),
    after the session's pending ORM changes, which a direct statement must see."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await driver_connection(session)


class Direct:
    """A Core statement run on the transaction's asyncpg connection (see the module)."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, ...], _Compiled] = {}

    def _for(self, session: AsyncSession, params: Mapping[str, Any]) -> _Compiled:
        names = tuple(params)
        compiled = self._compiled.get(names)
        if compiled is None:
            compiled = _compiled(self.statement, session.get_bind().dialect, names)
            self._compiled[names] = compiled
        return compiled

    async def fetch(
        self, session: AsyncSession, params: Mapping[str, Any] | None = None
    ) -> list[asyncpg.Record]:
        """Every row the statement returns."""
        compiled = self._for(session, params or {})
        rows: list[asyncpg.Record] = await (await _connection(session)).fetch(
            compiled.sql, *compiled.args(params or {})
        )
        return rows

    async def fetchrow(
        self, session: AsyncSession, params: Mapping[str, Any] | None = None
    ) -> asyncpg.Record | None:
        """The first row the statement returns, or None."""
        compiled = self._for(session, params or {})
        row: asyncpg.Record | None = await (await _connection(session)).fetchrow(
            compiled.sql, *compiled.args(params or {})
        )
        return row

    async def fetchval(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        compiled = self._for(session, params or {})
        return await (await _connection(session)).fetchval(
            compiled.sql, *compiled.args(params or {})
        )

    async def execute(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> str:
        """Run it for its effect; PostgreSQL's status (`UPDATE 1`)."""
        compiled = self._for(session, params or {})
        status: str = await (await _connection(session)).execute(
            compiled.sql, *compiled.args(params or {})
        )
        return status
