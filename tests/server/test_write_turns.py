"""Turns at SQLite's write lock for the sync store's writers (``server.sync.write_turns``)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import create_engine

from server.sync import write_turns
from server.sync.write_turns import WriteTurns
from tests.conftest import backend


def _taken_elsewhere(path: str) -> bool:
    """Whether another open file of ``path`` holds the turn now."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_writer_waits_for_the_turn_another_thread_holds(tmp_path):
    turns = WriteTurns(str(tmp_path / "ferry.sqlite"))
    inside, release = threading.Event(), threading.Event()
    times = {}

    def first():
        with turns.turn():
            inside.set()
            release.wait(10)
            times["first_left"] = time.monotonic()

    def second():
        inside.wait(10)
        with turns.turn():
            times["second_entered"] = time.monotonic()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inside.wait(10)
    time.sleep(0.05)
    assert "second_entered" not in times  # still waiting while the first holds the turn
    release.set()
    for thread in threads:
        thread.join(10)
    assert times["second_entered"] >= times["first_left"]
    assert not _taken_elsewhere(turns._path)  # both gave their turn back


def test_a_writer_in_another_process_waits_too(tmp_path):
    path = str(tmp_path / "ferry.sqlite")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from server.sync.write_turns import WriteTurns\n"
                               f"t = WriteTurns({path!r})\n"
                               "with t.turn():\n    print('held', flush=True); sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    try:
        assert holder.stdout.readline().strip() == "held"
        assert _taken_elsewhere(path + ".write-turn")
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()
    assert not _taken_elsewhere(path + ".write-turn")  # the other process's turn ended with it


def test_a_turn_held_too_long_leaves_the_wait_to_sqlite(tmp_path, monkeypatch):
    monkeypatch.setattr(write_turns, "PATIENCE_S", 0.05)
    turns, other = WriteTurns(str(tmp_path / "f.sqlite")), WriteTurns(str(tmp_path / "f.sqlite"))
    ran = []

    def write():
        with other.turn():
            ran.append(True)

    with turns.turn():
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(5)
        assert ran == [True]  # went on without the turn, while it was still held, instead of failing


def test_only_a_sqlite_file_has_turns():
    assert WriteTurns.for_engine(create_engine("sqlite://"))._path is None
    assert WriteTurns.for_engine(create_engine("postgresql+psycopg://u@127.0.0.1/x"))._path is None
    assert WriteTurns.for_engine(create_engine("sqlite:////tmp/x/ferry.sqlite"))._path == \
        "/tmp/x/ferry.sqlite.write-turn"
    with WriteTurns(None).turn():
        pass


@pytest.mark.skipif(backend() != "sqlite", reason="PostgreSQL's writers queue on row locks")
def test_the_sync_stores_write_transaction_holds_a_turn(store):
    path = store._turns._path
    assert path is not None
    with store.transaction():
        store.reserve_seqs(1)
        assert _taken_elsewhere(path)
    assert not _taken_elsewhere(path)
