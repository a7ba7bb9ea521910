"""Turns at SQLite's write lock for the sync store's writers, handed over the moment one ends.

SQLite lets one connection write at a time. A writer that finds the lock taken waits in SQLite's busy
handler, which sleeps 1, 2, 5, 10, 15 ms and so on between tries: the lock may sit free for
milliseconds while the next writer sleeps, and with several gunicorn workers pushing batches back to
back that idle time is a large part of each batch. Here the store's writers first take an advisory
``flock`` on a file beside the database, opened for each turn (so threads of one process exclude each
other too), polled every 0.2 ms: the next writer starts within a fraction of a millisecond of the last
one's commit. The lock only orders Ferry's own sync writers; SQLite's own lock still guards the data,
so another writer (the console, the CLI) is merely not queued here. A writer that cannot get its turn
within ``PATIENCE_S`` goes on to SQLite's own wait rather than fail, and a process that dies drops its
``flock`` with its files. PostgreSQL (row locks that wake their waiters) needs none of this.

Checkpoints happen after the turn (``checkpoint_after``). SQLite's automatic checkpoint runs inside the
``COMMIT`` that fills the WAL past its threshold: its copy into the database and its fsync (15-20 ms against
the 3-7 ms of an ordinary batch commit, in-process) were made while this writer still held its turn, so the
next writer waited for I/O that does not need the write lock. The app's connections set the automatic
threshold higher, as a safety net for other writers (100,000 pages: under sustained pushes the WAL does not
start over until a pause, see ``server.models.database``), and the sync store's writers copy what they
committed with a passive checkpoint once their turn is given back (a fifth less of a push spent holding the
turn, in-process: 41% to 33% of its time).

Not after every turn: every ``CHECKPOINT_EVERY``-th turn of a process. A checkpoint's fixed costs (its fsyncs
of the WAL and of the database file, the call itself) are then paid once for several batches; the pages it
copies are nearly the same (``tests/bench/profile_sync_push.py --stored 1000000 --batches 24
--checkpoint-every 1``, then ``8``: pushes 9–16 and 17–24 wrote 1,559 and 1,946 WAL frames checkpointed one
by one, 1,482 and 1,861 checkpointed eight at a time, with the benchmark's seeded ids sequential then; with
random ones, ``CHECKPOINT_EVERY`` below), and the WAL stays below SQLite's own threshold.
A checkpoint after each turn against one after each 8th,
``tests/bench/bench_sync_push.py --backend sqlite --runs 7 --batches 60`` back to back: 3,692 and 4,297
submissions/s, workers' CPU 438 and 384 µs a submission (every 16th gave the same as every 8th).
"""

from __future__ import annotations

import fcntl
import itertools
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: Seconds between tries for the turn: short against a batch's write (several milliseconds).
POLL_S = 0.0002
#: Seconds to wait for a turn before leaving the wait to SQLite's busy handler.
PATIENCE_S = 10.0
#: A process's write turns between its checkpoints: 8 pushes of 100 left 1,116–1,861 pages in the WAL
#: (measured as above, when the benchmark's seeded ids were sequential). With ids as random as devices'
#: (``profile_sync_push.py --stored 1000000 --batches 40``) each push dirties a leaf of every id index a row,
#: and 8 pushes leave 5,962–6,299. What bounds the WAL is not this but its restarts: the frames a checkpoint
#: copied are written over only once the WAL starts over (``wal_autocheckpoint`` in
#: ``server.models.database``). 4 and 16 in the benchmark gave 4,245 and 4,271/s
#: against 3,761–4,209/s for 8 in the same session: no more than an invocation's own drift (±10–15%).
CHECKPOINT_EVERY = 8


class WriteTurns:
    """Advisory turns for the writers of one SQLite database file (a no-op for any other database)."""

    def __init__(self, database_path: str | None):
        self._path = f"{database_path}.write-turn" if database_path else None
        self._committed = itertools.count(1)  # next() on a count is atomic: threads share it safely

    @classmethod
    def for_engine(cls, engine) -> WriteTurns:
        url = engine.url
        on_disk = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
        return cls(os.path.abspath(url.database) if on_disk else None)

    def checkpoint_due(self) -> bool:
        """Count a committed turn; True for every ``CHECKPOINT_EVERY``-th (never without turns to order)."""
        return self._path is not None and next(self._committed) % CHECKPOINT_EVERY == 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold this thread's turn to write for the block (the caller begins and commits inside it)."""
        if self._path is None:
            yield
            return
        # a file opened for each turn (microseconds against a batch's write): no descriptor outlives the
        # turn, and closing it is what gives the turn back
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _wait_for(fd, time.monotonic() + PATIENCE_S)
            yield
        finally:
            os.close(fd)


def _wait_for(fd: int, deadline: float) -> bool:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_S)


def checkpoint_after(engine) -> tuple[int, int, int] | None:
    """Copy committed WAL pages into the database file, outside any turn (a passive checkpoint: it waits for
    no reader or writer, and copies what it can now; the next one, or SQLite's own, copies the rest).

    Returns SQLite's answer (busy, frames in the WAL, frames copied), or None when it failed.
    """
    raw = engine.raw_connection()
    try:
        return tuple(raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
    except sqlite3.Error:
        return None  # advisory: SQLite's automatic checkpoint still bounds the WAL
    finally:
        raw.close()
