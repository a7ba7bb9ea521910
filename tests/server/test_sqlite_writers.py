"""SQLite: a request that reads and then writes survives a device push committing in between."""

import sqlite3
import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy import text

from server.extensions import db
from server.models import User
from sync.protocol import PROTOCOL
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


@pytest.mark.skipif(backend() != "sqlite", reason="PostgreSQL locks rows, not the database")
def test_a_pull_answers_while_another_worker_holds_the_write_lock(app, client, accounts):
    """A POST's token check and device look-ups begin as reads: one that only reads never queues for the lock.

    They began with BEGIN IMMEDIATE (a POST may write), so every push and pull waited behind whichever
    worker was writing a batch, up to the busy timeout (10 s), before it even reached the store.
    """
    device_id, headers = accounts.device()
    pull = {"protocol": PROTOCOL, "device_id": device_id}
    assert client.post("/api/v1/sync/pull", json=pull, headers=headers).status_code == 200  # mints the epoch
    with app.app_context():
        path = db.engine.url.database
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another worker in the middle of writing a batch
    try:
        started = time.monotonic()
        page = client.post("/api/v1/sync/pull", json=pull, headers=headers)
        waited = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert page.status_code == 200, page.get_json()
    assert waited < 5
