"""Database engine settings: backend URLs, SQLite pragmas, schema status."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import event
from sqlalchemy import text

from server.extensions import db

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")

#: Whether the request being served may write. The HTTP layer sets it for each request
#: (``server.api.access``); the SQLite BEGIN hook reads it, so this layer never looks at requests.
writing_request: ContextVar[bool] = ContextVar("ferry_writing_request", default=False)


@contextmanager
def reading() -> Iterator[None]:
    """Begin the transactions opened inside as reads, even in a writing request.

    For the look-ups a POST starts with (its caller's token, the device's peers): on SQLite they
    would otherwise begin with ``BEGIN IMMEDIATE`` and queue behind every other worker's write.
    Whoever uses it must end the transaction before writing (SQLite cannot turn a read into a write
    once another connection has committed).
    """
    token = writing_request.set(False)
    try:
        yield
    finally:
        writing_request.reset(token)


@contextmanager
def writing() -> Iterator[None]:
    """Begin the transactions opened inside as writers (``BEGIN IMMEDIATE`` on SQLite), outside a request.

    For code that reads then writes while a server may be committing on the same database (a test's
    set-up beside a live server): a plain read snapshot fails at once when it tries to write after
    another connection has committed.
    """
    token = writing_request.set(True)
    try:
        yield
    finally:
        writing_request.reset(token)


def normalise_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver named, so plain ``postgresql://`` URLs work."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # WAL lets readers (reports) run while a device pushes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # FULL: each commit is on disk before the device hears "created". NORMAL (set here before) can roll the
    # last commits back after a power cut, and a device re-sends only after an epoch change: those submissions
    # would be lost. On tests/bench/bench_sync_push.py FULL cost nothing visible (7,061/s, median of 3).
    cursor.execute("PRAGMA synchronous=FULL")
    # The sync store checkpoints after every 8th write turn (server.sync.write_turns); SQLite's own
    # checkpoint, run inside a COMMIT, is a safety net for other writers and for a WAL that does not restart.
    # SQLite starts the WAL over only when a write begins with every frame copied and no reader in it. Under
    # back-to-back pushes the next writer begins before the last one's frames are copied, and another worker's
    # read snapshot is nearly always open, so the WAL grows until a pause (tests/bench/bench_sync_push.py:
    # ~48,000 pages a run of 8,000 submissions, started over between runs). At 10,000 pages every commit past
    # it checkpointed inside the turn, with an fsync of the database file (turns of 95-160 ms, one every
    # 0.4 s or so). 100,000 pages (about 400 MB of WAL) leaves that to bursts of more than ~17,000
    # submissions without a pause, at the benchmark's ~6 pages a submission (see docs/operations.md).
    cursor.execute("PRAGMA wal_autocheckpoint=100000")
    cursor.close()
    # pysqlite begins transactions only before writes, so a run of reads would see several
    # states; Ferry emits BEGIN itself (see _sqlite_begin) and pysqlite must stay out of it.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    # A transaction that may write takes the write lock at BEGIN. SQLite cannot turn a read
    # snapshot into a writer once another connection has committed (it fails at once with
    # "database is locked"), so read-then-write requests would fail whenever a device push
    # committed in between. Writers: the sync store's (ferry_write) and requests with a writing
    # method; pull snapshots (ferry_read) and GETs begin as plain readers and never wait.
    options = connection.get_execution_options()
    immediate = options.get("ferry_write", False) or (not options.get("ferry_read", False)
                                                      and writing_request.get())
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def render_item(type_, obj, autogen_context):
    """Render Ferry's column types in new migrations as the plain SQLAlchemy types they store."""
    from server.models.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def init_app(app: Flask) -> None:
    """Attach the SQLite pragmas to the app's engine before its first connection."""
    with app.app_context():
        event.listen(db.engine, "connect", _sqlite_pragmas)
        event.listen(db.engine, "begin", _sqlite_begin)


def schema_status(migrations_dir: str) -> dict:
    """Return the database's Alembic revision and the migrations' head; raise if unreachable."""
    head = ScriptDirectory(migrations_dir).get_current_head()
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        current = MigrationContext.configure(conn).get_current_revision()
    return {"current": current, "head": head, "at_head": current == head}
