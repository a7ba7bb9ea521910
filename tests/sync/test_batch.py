"""The batch path's device acknowledgement: the same state as acknowledging each operation in turn."""

from __future__ import annotations

import datetime as dt
import itertools

from sync.batch import acked
from sync.batch import acked_all
from sync.protocol import Operation
from sync.store import DeviceState

NOW = dt.datetime(2026, 12, 5, 8, 0, tzinfo=dt.UTC)


def test_acknowledging_a_batch_at_once_gives_the_state_of_each_in_turn():
    # late duplicates (a lower n) never move the ack backwards; an op without n always moves it
    numbers = [None, 3, 1, 7, 7, None, 2]
    seen = DeviceState(device_id="d", epoch="old", last_op="x", last_n=5, clock_skew_s=9,
                       last_seen_at=NOW - dt.timedelta(days=1))
    starts = [DeviceState(device_id="d"), seen]
    compared = 0
    for start, skew in itertools.product(starts, (None, -40)):
        for size in range(len(numbers) + 1):
            for order in itertools.permutations(numbers[:size], min(size, 3)):
                ops = [Operation(id=f"op{i}", raw={}, n=n) for i, n in enumerate(order)]
                expected = start
                for op in ops:
                    expected = acked(expected, op, now=NOW, skew_s=skew, epoch="e")
                assert acked_all(start, ops, now=NOW, skew_s=skew, epoch="e") == expected
                compared += 1
    assert compared > 100
    assert acked_all(starts[1], [], now=NOW, skew_s=None, epoch="e") == starts[1]  # nothing acknowledged
