"""Database engine settings: backend URLs, SQLite pragmas, schema status."""

from __future__ import annotations

import os
import sqlite3

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import event
from sqlalchemy import text

from .extensions import db

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


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
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def render_item(type_, obj, autogen_context):
    """Render Ferry's column types in new migrations as the plain SQLAlchemy types they store."""
    from .models.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def init_app(app: Flask) -> None:
    """Attach the SQLite pragmas to the app's engine before its first connection."""
    with app.app_context():
        event.listen(db.engine, "connect", _sqlite_pragmas)


def schema_status(migrations_dir: str) -> dict:
    """Return the database's Alembic revision and the migrations' head; raise if unreachable."""
    head = ScriptDirectory(migrations_dir).get_current_head()
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        current = MigrationContext.configure(conn).get_current_revision()
    return {"current": current, "head": head, "at_head": current == head}
