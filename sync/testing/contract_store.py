"""Contract, part 1: every Store method and the transaction guarantees behind it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import uuid

import pytest

from sync.errors import AlreadyResolved
from sync.errors import NotFound
from sync.errors import WriteConflict
from sync.protocol import change_size
from sync.store import AnalysisRow
from sync.store import Conflict
from sync.store import DeviceState
from sync.store import OpRecord
from sync.store import QuarantineItem
from sync.store import Revision
from sync.store import SubmissionHead
from sync.testing.fakes import T0


def _op_record(op_id: str, seq: int, device_id: str = "d") -> OpRecord:
    return OpRecord(op_id=op_id, device_id=device_id, payload_hash="h" * 64, result={"status": "created"},
                    seq=seq, received_at=T0)


def _revision(sub: str, op_id: str, number: int, seq: int, device_id: str) -> Revision:
    return Revision(op_id=op_id, submission_id=sub, number=number, device_id=device_id, kind="create",
                    base=None, form_id="awareness", form_version="1", answers={"age": 30 + number},
                    received_at=T0, seq=seq, device_time="2020-01-01T00:00:00+07:00", skew_s=-3,
                    blobs=("a" * 64,), note="n")


def _quarantine_item(key: str, seq: int, device_id: str) -> QuarantineItem:
    return QuarantineItem(key=key, op_id=key, device_id=device_id, reason="form-unknown",
                          issues=({"code": "form-unknown", "pointer": "/ver", "message": "m"},),
                          payload=b'{"id":"x"}', received_at=T0, seq=seq, submission_id=str(uuid.uuid4()),
                          form_id="awareness", form_version="9")


class StoreMethods:
    """Each Store method, inside and outside transactions."""

    def test_transaction_commits_on_clean_exit(self, store):
        device = self.make_device(store)
        with store.transaction():
            record = _op_record("op-1", store.next_seq(), str(device.id))
            store.insert_op(record)
        with store.snapshot():
            assert store.find_op("op-1") == record
            assert store.find_op("op-2") is None

    def test_transaction_rolls_back_on_exception(self, store):
        with pytest.raises(RuntimeError), store.transaction():
            store.insert_op(_op_record("op-2", store.next_seq()))
            store.record_change("forms", "f", {"x": 1})
            raise RuntimeError("crash mid-operation")
        with store.snapshot():
            assert store.find_op("op-2") is None
            assert store.changes_after("forms", 0, 10_000) == ([], False)

    def test_seq_is_increasing_and_current_seq_sees_commits(self, store):
        with store.snapshot():
            start = store.current_seq()
        with store.transaction():
            first, second = store.next_seq(), store.next_seq()
        assert start < first < second
        with store.snapshot():
            assert store.current_seq() >= second

    def test_epoch_is_stable_until_a_new_one_is_started(self, store):
        with store.snapshot():
            epoch = store.epoch()
        with store.snapshot():
            assert store.epoch() == epoch and epoch
        with store.transaction():
            new = store.start_new_epoch()
        with store.snapshot():
            assert store.epoch() == new != epoch

    def test_device_state_round_trips(self, store):
        device = self.make_device(store)
        with store.snapshot():
            assert store.device_state(str(device.id)) is None
        state = DeviceState(device_id=str(device.id), epoch="e1", last_op="op-9", last_n=9,
                            clock_skew_s=-3600, last_seen_at=T0)
        with store.transaction():
            store.save_device_state(state)
        with store.transaction():
            store.save_device_state(dataclasses.replace(state, last_n=10))
        with store.snapshot():
            assert store.device_state(str(device.id)) == dataclasses.replace(state, last_n=10)

    def test_op_id_is_unique(self, store):
        with store.transaction():
            store.insert_op(_op_record("op-3", store.next_seq()))
        with pytest.raises(WriteConflict), store.transaction():
            store.insert_op(_op_record("op-3", store.next_seq()))
        with store.snapshot():
            assert store.find_op("op-3").result == {"status": "created"}

    def test_submissions_and_revisions_round_trip_in_seq_order(self, store):
        device = self.make_device(store)
        sub = str(uuid.uuid4())
        with store.transaction():
            seq1 = store.next_seq()
            store.insert_revision(_revision(sub, "r1", 1, seq1, str(device.id)))
            store.save_submission(SubmissionHead(sub, "awareness", "1", str(device.id), "r1", 1, False, seq1))
        with store.transaction():
            seq2 = store.next_seq()
            store.insert_revision(_revision(sub, "r2", 2, seq2, str(device.id)))
            store.save_submission(SubmissionHead(sub, "awareness", "1", str(device.id), "r2", 2, True, seq2))
        with store.snapshot():
            assert [r.op_id for r in store.revisions(sub)] == ["r1", "r2"]
            assert store.revisions(sub)[0] == _revision(sub, "r1", 1, seq1, str(device.id))
            expected = SubmissionHead(sub, "awareness", "1", str(device.id), "r2", 2, True, seq2)
            assert store.submission(sub) == expected
            assert store.submission(str(uuid.uuid4())) is None
            assert store.revisions(str(uuid.uuid4())) == []

    def test_quarantine_is_idempotent_by_key_and_resolvable(self, store):
        device = self.make_device(store)
        with store.transaction():
            first = _quarantine_item("q1", store.next_seq(), str(device.id))
            assert store.quarantine(first) is True
            assert store.quarantine(dataclasses.replace(first, reason="other")) is False
            store.quarantine(_quarantine_item("q2", store.next_seq(), str(device.id)))
        with store.snapshot():
            assert [q.key for q in store.quarantined()] == ["q1", "q2"]
            assert store.quarantined()[0] == first
        with store.transaction():
            store.resolve_quarantined("q1", "accepted", T0)
        with store.snapshot():
            assert [q.key for q in store.quarantined()] == ["q2"]
            resolved = store.quarantined(include_resolved=True)[0]
            assert (resolved.key, resolved.resolution, resolved.resolved_at) == ("q1", "accepted", T0)
        with pytest.raises(AlreadyResolved), store.transaction():
            store.resolve_quarantined("q1", "dismissed", T0)
        with store.snapshot():
            assert store.quarantined(include_resolved=True)[0].resolution == "accepted"
        with pytest.raises(NotFound), store.transaction():
            store.resolve_quarantined("nope", "accepted", T0)

    def test_conflicts_are_listed_and_resolvable(self, store):
        sub = str(uuid.uuid4())
        with store.transaction():
            store.add_conflict(Conflict("c1", sub, "concurrent-edit", ("r1", "r2"), store.next_seq(), T0))
        with store.snapshot():
            assert store.conflicts() == [Conflict("c1", sub, "concurrent-edit", ("r1", "r2"),
                                                  store.conflicts()[0].seq, T0)]
        with store.transaction():
            store.resolve_conflict("c1", T0)
        with store.snapshot():
            assert store.conflicts() == []
            assert store.conflicts(include_resolved=True)[0].resolved_at == T0
        with pytest.raises(AlreadyResolved), store.transaction():
            store.resolve_conflict("c1", T0 + dt.timedelta(hours=1))
        with store.snapshot():
            assert store.conflicts(include_resolved=True)[0].resolved_at == T0
        with pytest.raises(NotFound), store.transaction():
            store.resolve_conflict("nope", T0)

    def test_form_versions_come_from_the_catalogue(self, store, forms):
        with store.snapshot():
            assert store.form_version("awareness", "1").state == "open"
            assert store.form_version("awareness", "2").state == "draft"
            assert store.form_version("awareness", "404") is None
        forms.publish("awareness", "404", "closing")
        with store.snapshot():
            assert store.form_version("awareness", "404").state == "closing"

    def test_analysis_rows_are_saved_replaced_and_removed(self, store):
        with store.snapshot():
            values = store.form_version("awareness", "1").analysis_values({"age": 30, "heard": "yes"})
            other = store.form_version("awareness", "1").analysis_values({"age": 40, "heard": "no"})
        # A row is its head's, saved with it (as the engine writes them): its seq is the head's.
        row = AnalysisRow("s-1", "awareness", "1", 5, values)
        with store.transaction():
            store.save_submission(SubmissionHead("s-1", "awareness", "1", "d", "r1", 1, False, 5))
            store.save_analysis_row("s-1", row)
            store.save_analysis_row("s-2", None)  # removing an absent row is no error
        with store.snapshot():
            assert store.analysis_row("s-1") == row and store.analysis_row("s-2") is None
        with pytest.raises(RuntimeError), store.transaction():
            store.save_analysis_row("s-1", None)
            raise RuntimeError("crash mid-operation")
        with store.snapshot():
            assert store.analysis_row("s-1") == row
        replaced = AnalysisRow("s-1", "awareness", "1", 9, other)
        with store.transaction():
            store.save_submission(SubmissionHead("s-1", "awareness", "1", "d", "r2", 2, False, 9))
            store.save_analysis_row("s-1", replaced)
        with store.snapshot():
            assert store.analysis_row("s-1") == replaced
        with store.transaction():
            store.save_analysis_row("s-1", None)
        with store.snapshot():
            assert store.analysis_row("s-1") is None

    def test_rewriting_a_bucket_value_costs_no_seq(self, store):
        with store.transaction():
            first = store.record_change("places", "a", {"n": [1, 2]})
        with store.transaction():
            assert store.record_change("places", "a", {"n": [1, 2]}) is None
            assert store.record_change("places", "never", None) is None  # nothing to tombstone
            assert store.record_change("places", "a", {"n": 3}) > first
        with store.snapshot():
            assert [(c.key, c.data) for c in store.changes_after("places", 0, 10_000)[0]] == [("a", {"n": 3})]

    def test_missing_blobs_lists_the_absent_in_order(self, store):
        present, absent1, absent2 = "a" * 64, "b" * 64, "c" * 64
        self.add_blob(store, present)
        with store.snapshot():
            assert store.missing_blobs([absent2, present, absent1]) == [absent2, absent1]
            assert store.missing_blobs([]) == []

    def test_changes_keep_the_latest_per_key_in_seq_order(self, store):
        with store.transaction():
            store.record_change("places", "a", {"n": 1})
            store.record_change("places", "b", {"n": 2})
            store.record_change("forms", "x", {"n": 0})
        with store.transaction():
            seq_a = store.record_change("places", "a", {"n": 3})
            seq_b = store.record_change("places", "b", None)
        with store.snapshot():
            changes, more = store.changes_after("places", 0, 1 << 20)
        assert not more
        assert [(c.key, c.seq, c.data) for c in changes] == [("a", seq_a, {"n": 3}), ("b", seq_b, None)]
        assert changes[0].size == change_size("a", {"n": 3})
        with store.snapshot():
            assert [c.key for c in store.changes_after("places", seq_a, 1 << 20)[0]] == ["b"]

    def test_changes_are_bounded_by_bytes_but_always_progress(self, store):
        with store.transaction():
            for i in range(10):
                store.record_change("places", f"k{i}", {"name": "x" * 50})
            store.record_change("places", "huge", {"name": "y" * 5000})
        size = change_size("k0", {"name": "x" * 50})
        with store.snapshot():
            page, more = store.changes_after("places", 0, size * 3 + 1)
            assert [c.key for c in page] == ["k0", "k1", "k2"] and more
            rest, more = store.changes_after("places", page[-1].seq, 10**6)
            assert len(rest) == 8 and not more
            alone, more = store.changes_after("places", rest[-2].seq, 10)
            assert [c.key for c in alone] == ["huge"] and not more

    def test_purging_tombstones_raises_the_horizon(self, store):
        with store.transaction():
            store.record_change("places", "gone", {"n": 1})
            store.record_change("places", "kept", {"n": 1})
        with store.transaction():
            dead = store.record_change("places", "gone", None)
        with store.snapshot():
            assert store.horizon("places") == 0
        with store.transaction():
            assert store.purge_tombstones(dead) == 1
        with store.snapshot():
            assert store.horizon("places") == dead and store.horizon("forms") == 0
            assert [c.key for c in store.changes_after("places", 0, 10**6)[0]] == ["kept"]

    def test_a_snapshot_does_not_wait_for_an_open_writer(self, store):
        holding, release = threading.Event(), threading.Event()

        def writer():
            with store.transaction():
                store.record_change("forms", "slow", {"n": 1})
                holding.set()
                release.wait(10)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            assert holding.wait(10)
            seen = []
            reader = threading.Thread(target=lambda: seen.append(self._read_forms(store)))
            reader.start()
            reader.join(5)
            assert not reader.is_alive(), "a snapshot waited for a writer"
            assert seen == [[]]
        finally:
            release.set()
            thread.join(10)
        assert self._read_forms(store) == ["slow"]

    @staticmethod
    def _read_forms(store) -> list[str]:
        with store.snapshot():
            return [c.key for c in store.changes_after("forms", 0, 10**6)[0]]

    def test_times_survive_with_their_timezone(self, store):
        device = self.make_device(store)
        moment = dt.datetime(2031, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
        with store.transaction():
            store.save_device_state(DeviceState(device_id=str(device.id), last_seen_at=moment))
        with store.snapshot():
            assert store.device_state(str(device.id)).last_seen_at == moment
