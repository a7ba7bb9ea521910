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


@pytest.mark.skipif(backend() != "sqlite", reason="PostgreSQL has no WAL file to checkpoint")
def test_a_write_turn_is_checkpointed_once_it_is_given_back(store, monkeypatch):
    from server.sync import store as store_module

    path = store._turns._path
    seen = []

    def watched(engine):
        seen.append(_taken_elsewhere(path))  # the next writer could start while this copy runs
        seen.append(write_turns.checkpoint_after(engine))

    monkeypatch.setattr(store_module, "checkpoint_after", watched)
    for _ in range(write_turns.CHECKPOINT_EVERY - 1):
        with store.transaction():
            store.reserve_seqs(1)
    assert seen == []  # not after every turn: its fixed costs are paid once for several
    with store.transaction():
        store.reserve_seqs(1)
    assert len(seen) == 2 and seen[0] is False
    busy, frames, copied = seen[1]
    assert busy == 0 and frames > 0 and copied == frames  # what the transactions committed is in the file
    for _ in range(write_turns.CHECKPOINT_EVERY):
        with store.transaction():
            store.reserve_seqs(1)
    assert len(seen) == 4  # and again after as many turns


@pytest.mark.skipif(backend() != "sqlite", reason="PostgreSQL has no WAL file to checkpoint")
def test_a_failed_write_is_not_checkpointed_and_a_failed_checkpoint_is_no_error(store, monkeypatch, tmp_path):
    from server.sync import store as store_module

    calls = []
    monkeypatch.setattr(store_module, "checkpoint_after", calls.append)
    for _ in range(write_turns.CHECKPOINT_EVERY):
        with pytest.raises(RuntimeError), store.transaction():
            store.reserve_seqs(1)
            raise RuntimeError("rolled back")
    assert calls == []  # a rolled-back turn is not counted towards a checkpoint either
    # a checkpoint SQLite refuses (here: a database file that is not one) leaves the result to SQLite's own
    bad = tmp_path / "not-a-database.sqlite"
    bad.write_bytes(b"x" * 4096)
    assert write_turns.checkpoint_after(create_engine(f"sqlite:///{bad}")) is None
