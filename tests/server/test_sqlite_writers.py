"""SQLite: a request that reads and then writes survives a device push committing in between."""

import threading

import pytest
from sqlalchemy import select
from sqlalchemy import text

from server.extensions import db
from server.models import User
from tests.conftest import backend


@pytest.mark.skipif(backend() != "sqlite", reason="PostgreSQL locks rows, not the database")
def test_read_then_write_request_is_not_doomed_by_a_concurrent_commit(app, accounts):
    username, _, _ = accounts.user("analyst")
    read_done, errors = threading.Event(), []

    def staff_request():
        try:
            with app.test_request_context("/api/v1/users", method="POST"):
                app.preprocess_request()  # the HTTP layer marks a writing request, as for a real one
                user = db.session.scalar(select(User).where(User.username == username))
                read_done.set()
                threading.Event().wait(0.3)  # the push below tries to commit now
                user.active = False
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def device_push():
        read_done.wait(5)
        with app.app_context(), db.engine.execution_options(ferry_write=True).begin() as conn:
            conn.execute(text("UPDATE counters SET value = value + 1 WHERE name = 'changes'"))

    threads = [threading.Thread(target=staff_request), threading.Thread(target=device_push)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(User.active).where(User.username == username)) is False
