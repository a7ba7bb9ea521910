"""Another connection commits while a request is between its read and its write.

SQLite cannot turn a read snapshot into a writer once another connection has committed; a request
that reads and then writes its audit row in one transaction fails then ("database is locked"). The
timing is made certain instead of raced: the first statement that names ``table`` is followed by a
commit on a connection of its own, as a phone's push beside a download would be.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy import text

from server.extensions import db


@contextmanager
def commit_beside(app, table: str):
    """While inside, the first statement reading ``table`` is followed by a commit on another connection."""
    with app.app_context():
        engine = db.engine
    fired = []

    def after(_conn, _cursor, statement, *_args):
        if fired or table not in statement or not statement.lstrip().upper().startswith("SELECT"):
            return
        fired.append(statement)
        with engine.connect() as other:
            other.execute(text("INSERT INTO audit_log (at, action, target_type, target_id, actor_cli, "
                               "details) VALUES (CURRENT_TIMESTAMP, 'test.beside', 'test', '-', false, '{}')"
                               ))
            other.commit()

    event.listen(engine, "after_cursor_execute", after)
    try:
        yield fired
    finally:
        event.remove(engine, "after_cursor_execute", after)
