"""Multi-row inserts handed to the database driver: a push batch's rows without Core's per-row work.

Core's ``session.execute(insert(table), rows)`` builds every row again: the compiled statement's parameters
(``construct_params``), each column's type processor and a dict per row. For a push of 100 that was about 12%
of a submission's CPU (issue 13, py-spy on ``tests/bench/profile_sync_push.py``). Here SQLAlchemy still
compiles each table's INSERT (once per dialect and column set) and still supplies each column's bind
processor, so the stored values are what Core would send; only the per-row assembly is left out.

SQLite gets the rows through the driver's ``executemany`` (one prepared statement stepped per row, in C).
PostgreSQL gets one statement per table and batch, a column per parameter, unnested into rows by the server:
``INSERT INTO t (a, b) SELECT * FROM unnest(%b::T[], %b::U[])``, the arrays sent in binary. psycopg's
``executemany`` pipelines an INSERT per row, and its pipeline's Python was a sixth of the workers' CPU; with
``unnest`` the workers' CPU per submission fell from 310 to 235 µs and the rate rose from 3,620 to 4,934/s
(``tests/bench/bench_sync_push.py --backend postgresql --runs 5``, medians, back to back). Not a multi-row
``VALUES``: psycopg converts a statement's placeholders on every call once it is longer than its cache takes,
and a hundred rows' worth cost more than the pipeline did. Not text arrays: psycopg escapes text arrays'
elements with a regular expression each.

A column that holds one value in every row of the batch (a push's device, form version, time of receipt,
empty list of attachments...) is sent once, as a scalar beside the arrays: psycopg dumps an array's elements
one by one, about 0.2 µs each. The driver's share of a push fell from 20.7 to 16.7–17.8 µs of a worker's CPU
a submission (in-process, thread CPU time around the driver's calls). Each set of such columns is a statement
of its own, compiled once (about 0.4 ms) and kept with the others (``_compiled``'s cache): the benchmark's
pushes made one per table; a field's pushes make a few more (one commune or several, everyone consenting or
not), and a batch built to make a new one each time costs its sender that compile, bounded by the cache.

On PostgreSQL the arrays are also dumped into psycopg's binary form as they are staged (``predumped``), so
that psycopg's loop over their elements runs before the write lock, not inside it.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from functools import lru_cache
from operator import attrgetter
from operator import itemgetter

from sqlalchemy import ARRAY
from sqlalchemy import VARCHAR
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Dialect

from server.sync import direct
from server.sync import predumped


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # each parameter, in the driver's order (positional) or by name, with its column's bind processor
    params: tuple[tuple[str, Callable | None], ...]
    positional: bool
    # the statement takes one array per column (in ``params`` order) rather than one row per call
    by_column: bool = False
    # by column: each parameter that is an offset, with the column whose staged values it moves
    # (``u.c + offset`` in the statement)
    offsets: dict[str, str] = field(default_factory=dict)


def _offset_of(column: str) -> str:
    """The name of the parameter that moves ``column``'s staged values (not a column name: it has a space)."""
    return f"{column} offset"


@lru_cache(maxsize=128)  # keyed by the dialect object: one entry per engine, table, columns and one-value set
def _compiled(dialect: Dialect, table: Table, columns: tuple[str, ...],
              constant: tuple[bool, ...] | None = None, *, one_row: bool = False,
              shifted: frozenset[str] = frozenset()) -> _Compiled:
    processors = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns}
    compiled = insert(table).values({name: bindparam(name) for name in columns}).compile(dialect=dialect)
    if not one_row and _unnests(dialect, table, columns):
        head, _, _ = compiled.string.partition(" VALUES ")
        constant = constant or (False,) * len(columns)
        # a column whose rows all hold one value is sent once, as a scalar, beside the others' arrays; a
        # shifted one is sent as staged, its offset added by the server
        cast = {name: _element_type(table.c[name].type, dialect) for name in columns}
        picks = ", ".join(f"%b::{cast[name]}" if same else
                          f"u.c{i} + %b::{cast[name]}" if name in shifted else f"u.c{i}"
                          for i, (name, same) in enumerate(zip(columns, constant, strict=True)))
        varying = [(i, name) for i, (name, same) in enumerate(zip(columns, constant, strict=True))
                   if not same]
        arrays = ", ".join(f"%b::{cast[name]}[]" for _, name in varying)
        aliases = ", ".join(f"c{i}" for i, _ in varying)
        # the parameters in the statement's order: the picks' (one-value columns, offsets), then the arrays
        order = [name if same else _offset_of(name) for name, same in zip(columns, constant, strict=True)
                 if same or name in shifted] + [n for _, n in varying]
        return _Compiled(f"{head} SELECT {picks} FROM unnest({arrays}) AS u({aliases})",
                         tuple((name, processors.get(name)) for name in order), False, by_column=True,
                         offsets={_offset_of(name): name for name in columns if name in shifted})
    names = tuple(compiled.positiontup) if dialect.positional else columns
    return _Compiled(compiled.string, tuple((name, processors[name]) for name in names), dialect.positional)


def _element_type(type_, dialect: Dialect) -> str:
    # VARCHAR without its length, as Core's own casts render it: an explicit cast to VARCHAR(n) cuts longer
    # text silently, where the column's assignment refuses it
    if type(type_) in (String, VARCHAR) and type_.length:
        return String().compile(dialect=dialect)
    return type_.compile(dialect=dialect)


def _unnests(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> bool:
    # psycopg's %b (binary parameters) and no column that is an array itself (unnest would flatten it)
    return (dialect.name == "postgresql" and dialect.driver == "psycopg"
            and not any(isinstance(table.c[name].type, ARRAY) for name in columns))


def _processed(process: Callable, values: tuple) -> list | tuple:
    """``process`` applied to each of a column's values; once, when they are all the same object: a batch's
    rows share their ``received_at``, whose processing into SQLite's text took 5.2 µs a value (two a created
    submission: its revision and its ledger row)."""
    first = values[0]
    if values[-1] is first and len(set(map(id, values))) == 1:
        return (process(first),) * len(values)
    return list(map(process, values))


def _constant(values: Sequence) -> bool:
    """Whether a column's values (two or more) are all one value of one type (C loops: about 2 µs for 100).

    Never floats: 0.0 equals -0.0, and NaN equals only itself."""
    first = values[0]
    return (len(values) > 1 and type(first) is not float and values.count(first) == len(values)
            and len(set(map(type, values))) == 1)


@dataclass(frozen=True)
class Staged:
    """A table's rows made into the driver's parameters, column by column, before any connection: what is
    left for ``send`` is to add offsets, lay the columns out as the driver takes them and execute."""

    plan: _Compiled
    # each parameter's values in ``plan.params`` order: a column of values, or one value sent once
    columns: tuple
    scalar: tuple[bool, ...]
    # ``columns`` as psycopg sends them, dumped before the lock (PostgreSQL; None: each as psycopg dumps it)
    dumped: tuple | None = None


def stage(dialect: Dialect, table: Table, rows: Sequence, *, fields: tuple[str, ...] | None = None,
          moved: tuple[str, ...] = ()) -> Staged | None:
    """Turn ``rows`` into a ``Staged`` insert for ``dialect`` (None: no rows): dicts with the same keys, all
    of them columns of ``table``; or, with ``fields``, records (dataclasses) whose attributes of those names
    are the columns. Pure work, no database: a push batch stages its rows before it takes the write lock.

    The rows are read and turned column-wise by C (``itemgetter``/``attrgetter`` and ``zip``), so Python runs
    only the bind processors of the few columns that have one (JSON, timestamps, booleans). For the four rows
    a pushed create writes (a captured push of 100, rows built 200 times): 23.0 → 17.7 µs a submission on
    SQLite, the answers' JSON text included, and 6.0 → 3.2 µs on PostgreSQL, against dicts built per record.

    ``moved``: columns that ``send`` will be given offsets for (a batch's seqs). In one statement by column
    (PostgreSQL) each is staged and dumped here with the others, as counted from 1, and the server adds its
    offset, sent as one parameter (``u.c4 + %b::BIGINT``); elsewhere ``send`` adds it to each value. psycopg
    dumped those seqs as they were sent, inside the write lock: its list dumper and the offsets' addition were
    about 5% of py-spy's samples of a worker's pushes of 100 (in-process, PostgreSQL, 1,000,000 stored).
    One row is sent as Core's own ``INSERT ... VALUES``, its values as scalars: a push of one (a phone's
    single form, each of ODK Collect's submissions) made an array of one element of each of its four tables'
    columns, and psycopg's Python for arrays cost more than the rows.
    """
    if not rows:
        return None
    names = fields if fields is not None else tuple(rows[0])
    plan = _compiled(dialect, table, names, one_row=len(rows) == 1)
    get = (attrgetter if fields is not None else itemgetter)(*names)
    read = map(get, rows) if len(names) > 1 else ((get(row),) for row in rows)
    column = dict(zip(names, zip(*read, strict=True), strict=True))
    values = [column[name] if process is None else _processed(process, column[name])
              for name, process in plan.params]
    if not plan.by_column:
        return Staged(plan, tuple(values), (False,) * len(values))
    # by column, the plan's parameters are the columns in order, each an array; the moved ones stay arrays
    shifted = frozenset(name for name in names if name in moved)
    constant = tuple(name not in shifted and _constant(v) for name, v in zip(names, values, strict=True))
    if all(constant):  # nothing varies: every column an array, as a batch of different rows
        constant = (False,) * len(constant)
    if any(constant) or shifted:
        plan = _compiled(dialect, table, names, constant, shifted=shifted)
    by_name = dict(zip(names, zip(values, constant, strict=True), strict=True))
    ordered, scalar = [], []
    for name, _ in plan.params:
        if name in by_name:
            value, same = by_name[name]
            ordered.append(value[0] if same else list(value))  # a list is sent as an array
            scalar.append(same)
        else:  # an offset, which send() gives
            ordered.append(0)
            scalar.append(True)
    return Staged(plan, tuple(ordered), tuple(scalar), _predumped(dialect, plan, ordered))


def _predumped(dialect: Dialect, plan: _Compiled, values: list) -> tuple | None:
    # an offset is known only as the batch is sent, and psycopg dumps it there (one integer)
    return predumped.dump(dialect, [None if name in plan.offsets else v
                                    for (name, _), v in zip(plan.params, values, strict=True)])


def send(connection: Connection, staged: Staged, offsets: dict[str, int] | None = None) -> None:
    """Execute a ``Staged`` insert, with ``offsets`` added to the columns they name (a push batch's seqs,
    counted from 1 when it was decided: integers, which no bind processor changes)."""
    plan, moved = staged.plan, offsets or {}
    early = staged.dumped if staged.dumped is not None and predumped.usable(connection) else None
    columns = []
    by_parameter = zip(plan.params, staged.columns, staged.scalar, strict=True)
    for i, ((name, _), values, same) in enumerate(by_parameter):
        if name in plan.offsets:  # the server adds it to its column's staged values
            columns.append(moved.get(plan.offsets[name], 0))
        elif name in moved and _offset_of(name) not in plan.offsets:  # its values change here: sent as staged
            columns.append(_plus(values, moved[name], scalar=same))
        elif early is not None and early[i] is not None:
            columns.append(early[i])
        else:
            columns.append(values)
    if plan.by_column:  # one statement, the columns its parameters
        direct.run(connection, plan.sql, tuple(columns))
        return
    if plan.positional:
        params = list(zip(*columns, strict=True))
    else:
        order = [name for name, _ in plan.params]
        params = [dict(zip(order, row, strict=True)) for row in zip(*columns, strict=True)]
    if len(params) == 1:  # one execution, not the driver's executemany (psycopg's is a pipeline)
        direct.run(connection, plan.sql, params[0])
    else:
        direct.run(connection, plan.sql, params, many=True)


def _plus(values, offset: int, *, scalar: bool):
    return values + offset if scalar else [value + offset for value in values]
