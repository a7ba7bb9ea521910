"""Two threads made to reach the write lock together, to test what a race between coordinators leaves."""

from __future__ import annotations

import threading
from collections.abc import Callable


class MeetingAtTheLock:
    """The app's store, whose ``next_seq`` (the write lock) two threads reach together before either takes it:
    so both have looked at what they decide before either commits. Where transactions already take turns
    from their start (SQLite's write turns), the first waits out ``patience`` alone."""

    def __init__(self, store, patience: float = 1.0):
        self._store, self._barrier, self._patience = store, threading.Barrier(2), patience

    def __getattr__(self, name):
        return getattr(self._store, name)

    def next_seq(self):
        try:
            self._barrier.wait(self._patience)
        except threading.BrokenBarrierError:
            pass
        return self._store.next_seq()


def twice_at_once(decide: Callable[[int], object]) -> tuple[list, list[Exception]]:
    """Run ``decide(0)`` and ``decide(1)`` in two threads; return what they returned and what they raised."""
    results: list = []
    errors: list[Exception] = []

    def run(index: int) -> None:
        try:
            results.append(decide(index))
        except Exception as exc:  # noqa: BLE001 - returned to the test, which asserts on it
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, errors
