"""What a database error may say outside the database: its class, SQLSTATE, constraint, table
and column, never the parameters of the statement nor the values PostgreSQL quotes.

SQLAlchemy's exception text carries the statement's parameters, and asyncpg's carries the row
PostgreSQL quotes in DETAIL (`Key (phone)=(+856...) already exists`) and the value a cast
refused: a person's data in the logs of every process. `RedactDatabaseErrors` is installed on
every process's log handler (shared/observability.py) and rewrites such an exception, in a
message's arguments or a traceback's chain, to these facts. SQLAlchemy is not imported here:
the relay process must not load it, and no SQLAlchemy error exists in a process that never did.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
import traceback
from dataclasses import dataclass

# asyncpg's own errors, and SQLAlchemy's wrappers of them (the `orig` of a DBAPIError).
_DRIVER_MODULES = ("asyncpg", "sqlalchemy.dialects.postgresql.asyncpg")


def is_database_error(exc: BaseException) -> bool:
    """An error raised by the driver or by SQLAlchemy while running a statement."""
    if type(exc).__module__.startswith(_DRIVER_MODULES):
        return True
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.StatementError)


def _driver_error(exc: BaseException) -> BaseException | None:
    """The asyncpg exception under a SQLAlchemy one (its `orig`, then that one's cause)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__module__.startswith("asyncpg"):
            return current
        current = getattr(current, "orig", None) or current.__cause__
    return None


# SQLSTATEs that say the database cannot serve now, whatever the statement: class 08
# (connection exception), 53 (insufficient resources: 53300 too many clients, disk, memory) and
# operator intervention's shutdowns (57P01 admin, 57P02 crash, 57P03 cannot connect now while
# starting or stopping, 57P05 idle session timeout). Not 57014 (a cancelled statement) nor
# 57P04 (the database was dropped): retrying those changes nothing.
_UNAVAILABLE_CLASSES = ("08", "53")
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "57P05"})
# asyncpg's plain InterfaceError for a statement on a connection that is gone.
_CLOSED = ("connection is closed", "connection was closed")
# The network's OSErrors (refused, reset, unreachable, a name that does not resolve, a connect
# that timed out), not a file's: those are the process's own mistakes.
_NETWORK = (ConnectionError, TimeoutError, socket.gaierror)
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ETIMEDOUT,
        errno.EPIPE,
        errno.EADDRNOTAVAIL,
    }
)


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc`, or what caused it, says the database cannot be reached or cannot take
    more work now (a stopped or restarting server, a lost connection, no free connection slot,
    a pool that timed out), not that this request or this record is wrong: try again later.

    The one place this is decided: the consumer runner retries such errors without counting them
    against the record, and the API answers them 503 with Retry-After."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _says_unavailable(current):
            return True
        # SQLAlchemy keeps the driver's error as `orig`; Python chains by cause and context.
        for linked in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)
    return False


def _says_unavailable(exc: BaseException) -> bool:
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and (
        sqlstate.startswith(_UNAVAILABLE_CLASSES) or sqlstate in _UNAVAILABLE_STATES
    ):
        return True
    if isinstance(exc, OSError):  # ConnectionRefusedError, socket.gaierror, TimeoutError...
        if isinstance(exc, _NETWORK) or exc.errno in _NETWORK_ERRNOS:
            return True
        # asyncio's connect to a name with several addresses that all failed.
        return exc.errno is None and str(exc).startswith("Multiple exceptions")
    module = type(exc).__module__
    if module.startswith("asyncpg") and type(exc).__name__ == "InterfaceError":
        return any(words in str(exc) for words in _CLOSED)
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None:
        return False
    if isinstance(exc, sa_exc.TimeoutError):  # the pool had no connection to give in time
        return True
    # SQLAlchemy found the connection dead (its dialect's is_disconnect) and dropped it.
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


@dataclass(frozen=True)
class DatabaseErrorFacts:
    """What can be said about a database error without quoting any value."""

    error_class: str
    condition: str | None  # asyncpg's name of the SQLSTATE: UniqueViolationError, ...
    sqlstate: str | None
    constraint: str | None
    table: str | None
    column: str | None

    def describe(self) -> str:
        parts = [self.error_class]
        if self.condition and self.condition != self.error_class:
            parts.append(self.condition)
        if self.sqlstate:
            parts.append(f"SQLSTATE {self.sqlstate}")
        where = ", ".join(
            f"{name} {value}"
            for name, value in (
                ("constraint", self.constraint),
                ("table", self.table),
                ("column", self.column),
            )
            if value
        )
        return " ".join(parts) + (f" ({where})" if where else "")


def facts(exc: BaseException) -> DatabaseErrorFacts:
    """The class, SQLSTATE and names of a database error."""
    driver = _driver_error(exc)
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(driver, "sqlstate", None) or getattr(orig, "sqlstate", None)
    return DatabaseErrorFacts(
        error_class=type(exc).__name__,
        condition=type(driver).__name__ if driver is not None else None,
        sqlstate=sqlstate if isinstance(sqlstate, str) else None,
        constraint=getattr(driver, "constraint_name", None),
        table=getattr(driver, "table_name", None),
        column=getattr(driver, "column_name", None),
    )


def safe_message(exc: BaseException) -> str:
    """One line about an exception: its facts for a database error, its text otherwise."""
    if is_database_error(exc):
        return facts(exc).describe()
    return f"{type(exc).__name__}: {exc}"


def safe_traceback(exc: BaseException) -> str:
    """A traceback of `exc` and the exceptions it chains, where each database error's text is
    replaced by its facts (frames are code, never values, and are kept whole)."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    lines: list[str] = []
    # Oldest first, as Python prints a chain.
    for position, (error, _) in enumerate(reversed(chain)):
        if position:
            lines.append(chain[len(chain) - position][1])
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(error.__traceback__))
        name = f"{type(error).__module__}.{type(error).__qualname__}"
        if is_database_error(error):
            lines.append(f"{name}: {facts(error).describe()}\n")
        else:
            lines.extend(traceback.format_exception_only(error))
    return "".join(lines).rstrip("\n")


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _has_database_error(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if is_database_error(current):
            return True
        current = current.__cause__ or current.__context__
    return False


class RedactDatabaseErrors(logging.Filter):
    """Rewrites a record's database errors (as `%r`/`%s` arguments, or in its traceback's chain)
    to what `facts` tells, before any formatter sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            if isinstance(record.args, tuple):
                record.args = tuple(_safe_argument(a) for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: _safe_argument(v) for k, v in record.args.items()}
        if isinstance(record.msg, BaseException) and _has_database_error(record.msg):
            record.msg = safe_message(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            if _has_database_error(error):
                record.exc_info = None
                record.exc_text = safe_traceback(error)
        return True


def _safe_argument(value: object) -> object:
    if isinstance(value, BaseException) and _has_database_error(value):
        return safe_message(value)
    return value
