"""Multi-row inserts handed to the database driver: a push batch's rows without Core's per-row work.

Core's ``session.execute(insert(table), rows)`` builds every row again: the compiled statement's parameters
(``construct_params``), each column's type processor and a dict per row. For a push of 100 that was about 12%
of a submission's CPU (issue 13, py-spy on ``tests/bench/profile_sync_push.py``). Here SQLAlchemy still
compiles each table's INSERT (once per dialect and column set) and still supplies each column's bind
processor, so the SQL and the stored values are what Core would send; only the per-row assembly is a tuple,
given to the driver's ``executemany`` through ``exec_driver_sql``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Dialect


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # each parameter, in the driver's order (positional) or by name, with its column's bind processor
    params: tuple[tuple[str, Callable | None], ...]
    positional: bool


@lru_cache(maxsize=128)  # keyed by the dialect object: one entry per engine, table and column set
def _compiled(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _Compiled:
    statement = insert(table).values({name: bindparam(name) for name in columns})
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup) if dialect.positional else columns
    params = tuple((name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names)
    return _Compiled(compiled.string, params, dialect.positional)


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys, all of them columns of ``table``) in one executemany."""
    if not rows:
        return
    plan = _compiled(connection.dialect, table, tuple(rows[0]))
    columns = plan.params
    if plan.positional:
        params = [tuple(row[name] if process is None else process(row[name]) for name, process in columns)
                  for row in rows]
    else:
        params = [{name: row[name] if process is None else process(row[name]) for name, process in columns}
                  for row in rows]
    connection.exec_driver_sql(plan.sql, params)
