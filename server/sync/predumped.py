"""A push batch's parameters dumped by psycopg before the write lock (PostgreSQL).

``bulk.stage`` makes a batch's rows into one array per column before the batch's transaction; psycopg then
dumped each array into its binary form as the statement was sent, inside the write lock: its Python loop
over the elements (``ListBinaryDumper``) and the answers' JSON text were 13.4% of py-spy's samples of a push
(``tests/bench/profile_sync_push.py`` on PostgreSQL, 100,000 stored; its pushes with and without cProfile).
Here they are dumped as the batch is staged, with the adapters the engine's connections are made from, into
``Dumped`` values that the connection's dumper sends as they are. In-process
(``tests/bench/profile_sync_push.py``'s set-up, 100,000 stored, rounds of 20 pushes of 100), the worker's
CPU between the counter step and the commit fell from 3.6–5.9 to 2.4–3.7 ms a push;
``tests/bench/bench_sync_push.py`` showed no change through its spread (docs/operations.md, the fifth
session's figures).

psycopg dumps text in the connection's encoding; values dumped here are in UTF-8, and a connection in
another encoding is sent the values as staged (``usable``).
"""

from __future__ import annotations

import psycopg
from psycopg.adapt import Dumper
from psycopg.adapt import PyFormat
from psycopg.adapt import Transformer
from psycopg.pq import Format
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Dialect

from server.sync import direct


class Dumped:
    """A parameter in the bytes psycopg sends in binary, with its type's oid."""

    __slots__ = ("data", "oid")

    def __init__(self, data: bytes, oid: int):
        self.data, self.oid = data, oid


class _DumpedDumper(Dumper):
    format = Format.BINARY

    # one dumper per oid: psycopg's way for a type whose PostgreSQL type depends on the value, as lists do
    def get_key(self, obj: Dumped, format: PyFormat):
        return (Dumped, obj.oid)

    def upgrade(self, obj: Dumped, format: PyFormat) -> Dumper:
        dumper = _DumpedDumper(Dumped)
        dumper.oid = obj.oid
        return dumper

    def dump(self, obj: Dumped) -> bytes:
        return obj.data


def dump(dialect: Dialect, values: list) -> tuple | None:
    """Each of ``values`` (a column's array or a value sent once) as ``Dumped``; None where psycopg must still
    do it: a NULL (sent without a dumper) and an array of NULLs only (dumped as text, of no type). None for
    all of them where the dialect does not show the adapters its connections are made from."""
    # SQLAlchemy's psycopg dialect makes its connections from this map, which holds the engine's JSON text;
    # dumped with other adapters, a value could be sent otherwise than the connection would send it
    adapters = getattr(dialect, "_psycopg_adapters_map", None)
    if adapters is None:
        return None
    transformer = Transformer(adapters)
    out = []
    for value in values:
        dumper = None if value is None else transformer.get_dumper(value, PyFormat.BINARY)
        if dumper is None or dumper.format != Format.BINARY:
            out.append(None)
        else:
            out.append(Dumped(bytes(dumper.dump(value)), dumper.oid))
    return tuple(out)


def usable(connection: Connection) -> bool:
    """Whether ``connection`` can send ``Dumped`` values: a psycopg connection in UTF-8. Its dumper is added
    to the connection's adapters the first time (noted in the pool's record of the driver's connection)."""
    record = connection.connection
    ready = record.info.get("ferry_dumped")
    if ready is None:
        driver = record.dbapi_connection
        ready = isinstance(driver, psycopg.Connection) and driver.info.encoding == "utf-8"
        if ready:
            driver.adapters.register_dumper(Dumped, _DumpedDumper)
            # a cursor takes its connection's adapters as it is made: ``direct``'s, made before, is made again
            direct.forget_cursor(record)
        record.info["ferry_dumped"] = ready
    return ready
