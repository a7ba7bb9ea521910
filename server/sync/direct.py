"""A push's fixed statements sent straight to the driver, inside the session's transaction.

Every push runs the same handful of statements whatever its size: the epoch, the device's state, the form
version, the ledger's look-up, the counter step, the batch's inserts, the device's row. Through
``Session.execute`` a look-up by key cost 178 µs of a worker's CPU on PostgreSQL, through
``Connection.exec_driver_sql`` 108, and on the driver's cursor 42 (in-process, thread CPU time, 3,000 calls):
SQLAlchemy's execution context, events and result objects are built again on every call.

Here a Core statement is compiled once per dialect (``_plan``), with the bind processors of its parameters and
the result processors of its columns, exactly those SQLAlchemy would apply, and then run on a cursor of the
session's own DBAPI connection: the same transaction, the same driver adapters. What is left out is only the
per-call machinery. A driver's error is raised as SQLAlchemy raises it (``DBAPIError.instance``: an
``IntegrityError`` for a key, an ``OperationalError`` for a lost server), and a lost connection is
invalidated, so the store's handling of failures is unchanged.

What it gave, counted in instructions (valgrind's callgrind around the pushes only, so the count does not
move with the machine's load; PostgreSQL, 1,000,000 stored, the app's test client): a push of one
submission went from 12.8 to 10.0 million instructions of the worker's (-22%), a push of 100 from 93.5 to
90.2 million (-3.6%). A field phone's pushes are small, so most of the gain is theirs.

Not for statements that depend on execution options, events or ORM loading: only for plain Core statements
whose every parameter is bound by name and rendered once (no expanding ``IN``). What is sent here is not seen
by SQLAlchemy's execution events or its statement log (``echo``): a trace of a push's SQL needs the driver's
or the database's own (PostgreSQL's ``log_statement``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.engine import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement


@dataclass(frozen=True)
class _Plan:
    sql: str
    # each parameter in the driver's order (positional) or by name, with its bind processor and default
    params: tuple[tuple[str, Callable | None, object], ...]
    positional: bool
    # each result column's processor (None: the driver's value as it is); None: no column has one
    results: tuple[Callable | None, ...] | None


@lru_cache(maxsize=64)  # keyed by the dialect object and the statement: a few statements per engine
def _plan(dialect: Dialect, statement: ClauseElement) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    if "POSTCOMPILE" in compiled.string:
        raise ValueError("a statement rendered again on each call (an expanding IN) cannot be planned once")
    names = tuple(compiled.positiontup) if dialect.positional else tuple(compiled.binds)
    binds = [compiled.binds[name] for name in names]
    params = tuple((name, bind.type.dialect_impl(dialect).bind_processor(dialect), bind.effective_value)
                   for name, bind in zip(names, binds, strict=True))
    columns = getattr(statement, "exported_columns", ())
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    return _Plan(compiled.string, params, dialect.positional, results if any(results) else None)


def rows(connection: Connection, statement: ClauseElement, values: dict | None = None) -> list[tuple]:
    """Run ``statement`` with ``values`` (by parameter name; a parameter not given takes its statement's
    value) on ``connection``'s driver connection; return its rows as tuples (none: a statement without
    rows), processed as SQLAlchemy would return them."""
    plan = _plan(connection.dialect, statement)
    values = values or {}
    args = [_bound(process, values.get(name, default)) for name, process, default in plan.params]
    fetched = run(connection, plan.sql, args if plan.positional else
                  dict(zip((name for name, _, _ in plan.params), args, strict=True)))
    processors = plan.results
    if processors is None:
        return fetched
    return [tuple(value if process is None else process(value)
                  for process, value in zip(processors, row, strict=True)) for row in fetched]


_CURSOR = "ferry_direct_cursor"


def forget_cursor(driver) -> None:
    """Have the next statement on ``driver`` (a pool's proxy of a driver connection) made on a new cursor:
    one made after an adapter was added to the connection, which a cursor copies as it is made (psycopg)."""
    driver.info.pop(_CURSOR, None)


def run(connection: Connection, sql: str, parameters, *, many: bool = False) -> list[tuple]:
    """Execute ``sql`` (in the driver's paramstyle) with ``parameters`` (``many``: a list of them, one
    execution each, as ``executemany``) on ``connection``'s driver connection, in its transaction; return the
    rows the driver gives (none: a statement without rows, or ``many``). A driver's error is raised as
    SQLAlchemy raises it, the connection invalidated where it was lost."""
    dialect = connection.dialect
    driver = connection.connection
    cursor = driver.info.get(_CURSOR)
    # one per driver connection, kept while it lives: the pool clears ``info`` when it connects again
    if cursor is None or cursor.connection is not driver.dbapi_connection:
        cursor = driver.info[_CURSOR] = driver.dbapi_connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
            return []
        cursor.execute(sql, parameters)
        return cursor.fetchall() if _has_rows(cursor) else []
    except dialect.loaded_dbapi.Error as exc:
        lost = dialect.is_disconnect(exc, driver.dbapi_connection, cursor)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(sql, parameters, exc, dialect.loaded_dbapi.Error,
                                  connection_invalidated=lost, dialect=dialect) from exc


def _has_rows(cursor) -> bool:
    """Whether the statement just run returned rows. psycopg's ``description`` makes a ``Column`` for each of
    the result's columns every time it is read (5.1 µs for a ledger row's six, against 0.05 µs for its
    result's count of fields, which says as much). Other drivers' ``description`` is a plain tuple."""
    result = getattr(cursor, "pgresult", _NOT_PSYCOPG)
    if result is _NOT_PSYCOPG:
        return cursor.description is not None
    return result is not None and result.nfields > 0


_NOT_PSYCOPG = object()


def _bound(process: Callable | None, value):
    return value if process is None else process(value)
