"""Contract, part 2: the fault scenarios of notes/sync-anchors.md §5 that a Store takes part in."""

from __future__ import annotations

import threading
import uuid

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sync import engine
from sync.errors import DeviceMismatch
from sync.errors import DeviceRevoked
from sync.errors import EpochChanged
from sync.errors import PayloadTooLarge
from sync.errors import StoreUnavailable
from sync.protocol import PROTOCOL
from sync.protocol import Limits
from sync.protocol import PushRequest
from sync.store import AnalysisRow
from sync.store import DeviceRef
from sync.testing.contract_pull import cursor_of
from sync.testing.contract_pull import pull_all
from sync.testing.fakes import T0
from sync.testing.fakes import Crash
from sync.testing.fakes import FaultyStore
from sync.testing.fakes import WritesFirst
from sync.testing.fakes import correct_op
from sync.testing.fakes import create_op
from sync.testing.fakes import delete_op
from sync.testing.fakes import one_by_one
from sync.testing.fakes import push_ops


def _statuses(response) -> list[str]:
    return [r.status for r in response.results]


def _effective(result) -> dict:
    """The result an op settled with: a duplicate's original, else itself."""
    wire = result.to_wire()
    return wire["original"] if result.status == "duplicate" else wire


class EngineScenarios:
    """Push, pull, corrections, epochs and faults, end to end on the store."""

    # -- push: exactly once ----------------------------------------------------------------
    def test_lost_response_then_retry_gives_the_original_results(self, store):
        device = self.make_device(store)
        ops = [create_op(n=i) for i in range(20)]
        first = push_ops(store, device, ops)
        assert _statuses(first) == ["created"] * 20
        again = push_ops(store, device, ops)  # the client never saw ``first``
        assert _statuses(again) == ["duplicate"] * 20
        assert [r.details["original"] for r in again.results] == [r.to_wire() for r in first.results]
        with store.snapshot():
            for op in ops:
                assert [r.op_id for r in store.revisions(op["sub"])] == [op["id"]]
            assert store.device_state(str(device.id)).last_op == ops[-1]["id"]
        assert again.ack == first.ack == {"op": ops[-1]["id"], "n": 19}

    def test_concurrent_duplicate_pushes_store_each_op_once(self, store):
        device = self.make_device(store)
        ops = [create_op() for _ in range(15)]
        responses, errors = [], []

        def run():
            try:
                pending = list(ops)
                while pending:
                    response = push_ops(store, device, pending)
                    responses.append(response)
                    settled = {r.id for r in response.results if r.final}
                    pending = [op for op in pending if op["id"] not in settled]
            except Exception as exc:  # noqa: BLE001 - reported below, a thread cannot raise into pytest
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == [], [repr(e) for e in errors]
        settled: dict[str, list[dict]] = {}
        for response in responses:
            for result in response.results:
                if result.final:
                    settled.setdefault(result.id, []).append(_effective(result))
        for op in ops:
            outcomes = settled[op["id"]]
            assert len(outcomes) == 3 and all(o == outcomes[0] for o in outcomes)
            assert outcomes[0]["status"] == "created"
        with store.snapshot():
            assert all(len(store.revisions(op["sub"])) == 1 for op in ops)

    def test_poison_item_is_acknowledged_and_blocks_nothing(self, store):
        device = self.make_device(store)
        poison = {"id": "poison-1", "kind": "explode", "sub": "not-a-uuid"}
        ops = [create_op(), poison, create_op(answers={"age": 7}), create_op()]
        response = push_ops(store, device, ops)
        assert _statuses(response) == ["created", "rejected", "quarantined", "created"]
        assert response.results[1].details["code"] == "op-invalid"
        assert {e["pointer"] for e in response.results[1].details["errors"]} >= {"/kind", "/sub"}
        assert response.results[2].details["reasons"] == [
            {"code": "constraint", "pointer": "/age", "message": {"en": "age must be 15-120"}}]
        with store.snapshot():
            kept = {q.op_id: q for q in store.quarantined()}
        assert kept["poison-1"].reason == "op-invalid" and b'"explode"' in kept["poison-1"].payload
        assert kept[ops[2]["id"]].reason == "answers-invalid"
        assert _statuses(push_ops(store, device, [create_op()])) == ["created"]
        assert _statuses(push_ops(store, device, ops)) == ["duplicate"] * 4

    @pytest.mark.parametrize("version, status, reason", [
        ("1", "created", None), ("0", "created", None), ("old", "quarantined", "form-closed"),
        ("2", "quarantined", "form-draft"), ("404", "quarantined", "form-unknown"),
    ])
    def test_form_version_states(self, store, version, status, reason):
        device = self.make_device(store)
        response = push_ops(store, device, [create_op(ver=version)])
        assert _statuses(response) == [status]
        if reason:
            assert [r["code"] for r in response.results[0].details["reasons"]] == [reason]

    @pytest.mark.parametrize("error", [StoreUnavailable("lock timeout", retry_after=7), Crash()])
    def test_failure_mid_batch_then_retry_applies_each_op_once(self, store, error):
        device = self.make_device(store)
        ops = [create_op(n=i) for i in range(6)]
        faulty = FaultyStore(store, faults=one_by_one("insert_revision", 4, error))
        if isinstance(error, Crash):
            with pytest.raises(Crash):
                push_ops(faulty, device, ops)
        else:
            response = push_ops(faulty, device, ops)
            assert _statuses(response) == ["created"] * 3 + ["retry"] + ["not-processed"] * 2
            assert response.results[3].details["retry_after"] == 7
        with store.snapshot():
            for op in ops:
                recorded = store.find_op(op["id"]) is not None
                assert recorded == bool(store.revisions(op["sub"])), "half-applied operation"
            assert store.device_state(str(device.id)).last_op == ops[2]["id"]
        retry = push_ops(store, device, ops)
        assert _statuses(retry) == ["duplicate"] * 3 + ["created"] * 3
        with store.snapshot():
            assert all(len(store.revisions(op["sub"])) == 1 for op in ops)

    def test_op_id_reuse_keeps_the_original_and_flags_the_new_payload(self, store):
        device = self.make_device(store)
        original = create_op(answers={"age": 40})
        push_ops(store, device, [original])
        reused = dict(original, ans={"age": 41}, sub=str(uuid.uuid4()))
        for _ in range(2):
            assert _statuses(push_ops(store, device, [reused])) == ["op-id-reused"]
        with store.snapshot():
            assert [r.answers for r in store.revisions(original["sub"])] == [{"age": 40}]
            assert store.submission(reused["sub"]) is None
            flagged = [q for q in store.quarantined() if q.reason == "op-id-reused"]
        assert len(flagged) == 1 and b'"age":41' in flagged[0].payload

    def test_record_id_collision_across_devices_is_quarantined(self, store):
        phone, clone = self.make_device(store), self.make_device(store)
        op = create_op(answers={"age": 20})
        push_ops(store, phone, [op])
        collision = create_op(op["sub"], answers={"age": 60})
        response = push_ops(store, clone, [collision])
        assert _statuses(response) == ["quarantined"]
        assert response.results[0].details["reasons"][0]["code"] == "submission-exists"
        with store.snapshot():
            assert [r.answers for r in store.revisions(op["sub"])] == [{"age": 20}]
            assert store.submission(op["sub"]).device_id == str(phone.id)

    def test_a_submission_uuid_in_capitals_is_the_same_submission_as_in_lowercase(self, store):
        phone, clone = self.make_device(store), self.make_device(store)
        sub = str(uuid.uuid4())
        create = create_op(sub.upper(), answers={"age": 20})
        fix = correct_op(sub.upper(), create["id"], answers={"age": 21})
        first = push_ops(store, phone, [create, fix])
        assert [r.details.get("rev") for r in first.results] == [1, 2]
        assert first.results[0].details["sub"] == sub  # stored and answered in the one written form
        # the same interview from another client, written in lowercase: not a second submission
        again = push_ops(store, clone, [create_op(sub, answers={"age": 60})])
        assert _statuses(again) == ["quarantined"]
        assert again.results[0].details["reasons"][0]["code"] == "submission-exists"
        with store.snapshot():
            assert store.submission(sub).head == fix["id"] and store.submission(sub.upper()) is None
            assert [r.answers for r in store.revisions(sub)] == [{"age": 20}, {"age": 21}]

    # -- corrections and deletes -------------------------------------------------------------
    def test_chained_corrections_from_one_device_do_not_conflict(self, store):
        device = self.make_device(store)
        create = create_op()
        fix1 = correct_op(create["sub"], create["id"], answers={"age": 31})
        fix2 = correct_op(create["sub"], fix1["id"], answers={"age": 32})
        response = push_ops(store, device, [create, fix1, fix2])
        assert [r.details.get("rev") for r in response.results] == [1, 2, 3]
        assert not any("conflict" in r.details for r in response.results)
        with store.snapshot():
            assert store.submission(create["sub"]).head == fix2["id"]
            assert store.conflicts() == []

    def test_offline_corrections_on_two_devices_keep_both_and_flag_a_conflict(self, store):
        a, b = self.make_device(store), self.make_device(store)
        create = create_op()
        push_ops(store, a, [create])
        from_a = correct_op(create["sub"], create["id"], answers={"age": 50})
        from_b = correct_op(create["sub"], create["id"], answers={"age": 51})
        # B's phone clock says it corrected first; receipt order decides, not clocks.
        first = push_ops(store, a, [from_a], sent_at="2030-01-01T00:00:00Z")
        second = push_ops(store, b, [from_b], sent_at="2019-01-01T00:00:00Z")
        assert first.results[0].details == {"sub": create["sub"], "head": True, "rev": 2}
        assert second.results[0].details["conflict"] == "concurrent-edit"
        with store.snapshot():
            answers = [r.answers for r in store.revisions(create["sub"])]
            assert answers == [{"age": 30}, {"age": 50}, {"age": 51}]
            assert store.submission(create["sub"]).head == from_b["id"]
            (conflict,) = store.conflicts()
        assert (conflict.submission_id, conflict.kind, conflict.revisions) == (
            create["sub"], "concurrent-edit", (from_a["id"], from_b["id"]))
        engine.resolve_conflict(store, conflict.key, now=T0)
        assert engine.conflicts(store) == []

    def test_deletes_are_tombstones_and_a_late_edit_does_not_resurrect(self, store):
        a, b = self.make_device(store), self.make_device(store)
        create = create_op()
        push_ops(store, a, [create])
        tombstone = delete_op(create["sub"], create["id"], note="duplicate interview")
        assert _statuses(push_ops(store, a, [tombstone])) == ["created"]
        late = correct_op(create["sub"], create["id"], answers={"age": 44})
        response = push_ops(store, b, [late])
        assert response.results[0].details["head"] is False
        assert response.results[0].details["conflict"] == "edit-after-delete"
        with store.snapshot():
            head = store.submission(create["sub"])
            kinds = [(r.kind, r.answers) for r in store.revisions(create["sub"])]
        assert head.deleted and head.head == tombstone["id"]
        assert kinds == [("create", {"age": 30}), ("delete", None), ("correct", {"age": 44})]

    def test_a_correction_before_its_create_is_quarantined_then_revalidated(self, store, forms):
        device = self.make_device(store)
        create = create_op(ver="3")  # version 3 is not published yet
        fix = correct_op(create["sub"], create["id"], ver="3", answers={"age": 33})
        response = push_ops(store, device, [create, fix])
        assert [r.details["reasons"][0]["code"] for r in response.results] == ["form-unknown",
                                                                               "submission-unknown"]
        assert engine.revalidate_quarantined(store, now=T0) == {create["id"]: "still-quarantined",
                                                                fix["id"]: "still-quarantined"}
        forms.publish("awareness", "3", "open")
        outcomes = engine.revalidate_quarantined(store, now=T0)
        assert outcomes == {create["id"]: "accepted", fix["id"]: "accepted"}
        with store.snapshot():
            assert store.submission(create["sub"]).head == fix["id"]
            assert store.quarantined() == []
        # The device's retry still gets its original answer back.
        assert [r.details["original"]["status"] for r in push_ops(store, device, [create, fix]).results] == [
            "quarantined", "quarantined"]

    def test_missing_blobs_are_reported_and_the_record_kept(self, store):
        device = self.make_device(store)
        have, lack = "1" * 64, "2" * 64
        self.add_blob(store, have)
        response = push_ops(store, device, [create_op(blobs=[have, lack])])
        assert response.results[0].status == "created"
        assert response.results[0].details["missing_blobs"] == [lack]

    # -- devices, epochs, clocks ---------------------------------------------------------------
    def test_a_request_for_another_device_or_a_revoked_one_writes_nothing(self, store):
        device, other = self.make_device(store), self.make_device(store)
        op = create_op()
        with pytest.raises(DeviceMismatch):
            engine.push(store, other, push_request(device, [op]), now=T0)
        with pytest.raises(DeviceRevoked):
            engine.push(store, DeviceRef(device.id, device.user_id, revoked=True), push_request(device, [op]),
                        now=T0)
        with store.snapshot():
            assert store.find_op(op["id"]) is None

    def test_too_many_ops_are_refused_with_the_limits(self, store):
        device = self.make_device(store)
        with pytest.raises(PayloadTooLarge) as caught:
            push_ops(store, device, [create_op() for _ in range(3)], limits=Limits(max_push_ops=2))
        assert caught.value.fields["max_push_ops"] == 2 and "max_push_bytes" in caught.value.fields

    def test_clock_skew_is_reported_and_recorded(self, store):
        device = self.make_device(store)
        response = push_ops(store, device, [create_op()], sent_at="2027-06-03T03:00:00+00:00")
        assert response.skew_s == 730 * 86400
        with store.snapshot():
            assert store.device_state(str(device.id)).clock_skew_s == 730 * 86400
        assert push_ops(store, device, [], sent_at="yesterday").skew_s is None

    def test_clock_chaos_changes_no_order_or_winner(self, store):
        outcomes = []
        for clock in ("2025-06-03T03:00:00Z", "2027-06-03T03:00:00Z", "2023-06-03T10:00:00+07:00", None):
            a, b = self.make_device(store), self.make_device(store)
            create = create_op(at=clock)
            push_ops(store, a, [create], sent_at=clock)
            fix_a = correct_op(create["sub"], create["id"], at=clock)
            fix_b = correct_op(create["sub"], create["id"], at="1970-01-01T00:00:00Z")
            push_ops(store, a, [fix_a], sent_at=clock)
            push_ops(store, b, [fix_b], sent_at="2099-01-01T00:00:00Z")
            with store.snapshot():
                head = store.submission(create["sub"])
                order = [r.op_id for r in store.revisions(create["sub"])]
            outcomes.append((head.head == fix_b["id"], order == [create["id"], fix_a["id"], fix_b["id"]]))
        assert outcomes == [(True, True)] * 4

    def test_epoch_change_then_re_push_of_the_archive_is_exactly_once(self, store):
        device = self.make_device(store)
        with store.snapshot():
            epoch = store.epoch()
        before = [create_op(n=i) for i in range(3)]
        push_ops(store, device, before, epoch=epoch)
        backup = self.backup(store)
        after = [create_op(n=3 + i) for i in range(3)]
        push_ops(store, device, after, epoch=epoch)  # acked, then the database is lost
        store = self.restore(store, backup)
        with store.snapshot():
            new_epoch = store.epoch()
        assert new_epoch != epoch
        pending = [create_op(n=6)]
        with pytest.raises(EpochChanged) as caught:
            push_ops(store, device, pending, epoch=epoch)
        assert caught.value.fields["epoch"] == new_epoch
        with store.snapshot():
            assert store.find_op(pending[0]["id"]) is None
        response = push_ops(store, device, before + after + pending, epoch=new_epoch)
        assert _statuses(response) == ["duplicate"] * 3 + ["created"] * 4
        with store.snapshot():
            assert all(len(store.revisions(op["sub"])) == 1 for op in before + after + pending)
        state, _, pages = pull_all(store, device, cursor_of(epoch))
        assert pages[0].epoch_changed and all(b.reset for b in pages[0].buckets.values())

    # -- exactly once under random faults --------------------------------------------------------
    # Every store class runs this same method (it is the shared contract), hence differing executors.
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.differing_executors])
    @given(events=st.lists(st.tuples(st.sampled_from(["ok", "lost", "transient", "crash", "dup"]),
                                     st.integers(1, 8)), min_size=1, max_size=8))
    def test_random_faults_end_exactly_once(self, store, events):
        device = self.make_device(store)
        ops = [create_op(n=i) for i in range(8)]
        outbox = list(ops)
        settled: dict[str, dict] = {}
        for event, k in events + [("ok", 1)] * 3:
            if not outbox:
                break
            target = store
            if event in ("transient", "crash"):
                error = StoreUnavailable("x") if event == "transient" else Crash()
                target = FaultyStore(store, faults=one_by_one("insert_op", k, error))
            try:
                response = push_ops(target, device, outbox + (outbox[:1] if event == "dup" else []))
            except Crash:
                continue
            if event == "lost":
                continue  # committed on the server, never seen by the client
            for result in response.results:
                if result.final:
                    settled.setdefault(result.id, _effective(result))
                    assert _effective(result) == settled[result.id]
            outbox = [op for op in outbox if op["id"] not in settled]
        assert outbox == []
        with store.snapshot():
            assert all(len(store.revisions(op["sub"])) == 1 for op in ops)

    def test_analysis_rows_follow_the_head(self, store):
        device = self.make_device(store)
        create = create_op(answers={"age": 30, "heard": "yes"})
        unscored = create_op(answers={"age": 7})  # quarantined: no row
        push_ops(store, device, [create, unscored])
        with store.snapshot():
            version = store.form_version("awareness", "1")
            expected = version.analysis_values({"age": 30, "heard": "yes"})
            row = store.analysis_row(create["sub"])
            head = store.submission(create["sub"])
            assert store.analysis_row(unscored["sub"]) is None
        assert expected is not None
        assert row == AnalysisRow(create["sub"], "awareness", "1", head.seq, expected)
        fix = correct_op(create["sub"], create["id"], answers={"age": 31, "heard": "no"})
        push_ops(store, device, [fix])
        with store.snapshot():
            row = store.analysis_row(create["sub"])
            assert row.values == version.analysis_values({"age": 31, "heard": "no"}) != expected
            assert row.seq == store.submission(create["sub"]).seq > head.seq
        push_ops(store, device, [delete_op(create["sub"], fix["id"])])
        late = correct_op(create["sub"], fix["id"], answers={"age": 32})  # after the delete: not the head
        push_ops(store, device, [late])
        with store.snapshot():
            assert store.analysis_row(create["sub"]) is None

    def test_an_operation_failing_after_its_analysis_row_leaves_no_row(self, store):
        device = self.make_device(store)
        op = create_op(answers={"age": 40, "heard": "yes"})
        lock_timeout = StoreUnavailable("lock timeout", retry_after=1)
        faulty = FaultyStore(store, faults=one_by_one("insert_op", 1, lock_timeout))
        assert _statuses(push_ops(faulty, device, [op])) == ["retry"]
        with store.snapshot():
            assert store.submission(op["sub"]) is None and store.analysis_row(op["sub"]) is None
        assert _statuses(push_ops(store, device, [op])) == ["created"]
        with store.snapshot():
            expected = store.form_version("awareness", "1").analysis_values(op["ans"])
            assert store.analysis_row(op["sub"]).values == expected

    def test_a_batch_killed_while_writing_leaves_nothing_and_is_applied_once_on_retry(self, store):
        device = self.make_device(store)
        ops = [create_op(n=i, answers={"age": 20 + i, "heard": "yes"}) for i in range(5)]
        ops.insert(2, create_op(answers={"age": 7}))  # quarantined
        with pytest.raises(Crash):
            push_ops(FaultyStore(store, "write_batch", 1, Crash()), device, ops)
        with store.snapshot():
            assert store.find_ops([op["id"] for op in ops]) == {}
            assert store.submissions([op["sub"] for op in ops]) == {} and store.quarantined() == []
            assert store.device_state(str(device.id)) is None
        response = push_ops(store, device, ops)
        assert _statuses(response) == ["created", "created", "quarantined", "created", "created", "created"]
        with store.snapshot():
            assert len(store.find_ops([op["id"] for op in ops])) == 6
            assert all(store.analysis_row(op["sub"]) is not None for op in ops if op["ans"]["age"] >= 15)
            assert store.device_state(str(device.id)).last_op == ops[-1]["id"]

    def test_a_batch_with_a_create_of_a_stored_submission_quarantines_only_that_create(self, store):
        # The batch looks up no head for its creates: the stored one is found by its key as the batch is
        # written, and the batch is decided again one by one.
        phone, clone = self.make_device(store), self.make_device(store)
        stored = create_op(answers={"age": 20})
        push_ops(store, phone, [stored])
        ops = [create_op(n=1, answers={"age": 30}), create_op(stored["sub"], n=2, answers={"age": 60}),
               create_op(n=3, answers={"age": 40})]
        response = push_ops(store, clone, ops)
        assert _statuses(response) == ["created", "quarantined", "created"]
        assert response.results[1].details["reasons"][0]["code"] == "submission-exists"
        with store.snapshot():
            assert [r.answers for r in store.revisions(stored["sub"])] == [{"age": 20}]
            assert [store.submission(op["sub"]).device_id for op in ops[::2]] == [str(clone.id)] * 2
            assert store.device_state(str(clone.id)).last_op == ops[-1]["id"]

    def test_a_head_corrected_after_the_batch_was_decided_is_decided_again_under_the_lock(self, store):
        # A push is decided in a read snapshot, before the write lock. Another device's correction committed
        # in between moves the head the decision read: under the lock, the batch is decided again from the
        # head as it is now (a concurrent edit, revision 3), not written as decided (a second revision 2).
        a, b = self.make_device(store), self.make_device(store)
        create = create_op()
        push_ops(store, a, [create])
        from_a = correct_op(create["sub"], create["id"], answers={"age": 50})
        from_b = correct_op(create["sub"], create["id"], answers={"age": 51})
        racing = WritesFirst(store, lambda: push_ops(store, b, [from_b]))
        response = push_ops(racing, a, [from_a])
        assert response.results[0].details == {"sub": create["sub"], "head": True, "rev": 3,
                                               "conflict": "concurrent-edit"}
        with store.snapshot():
            revisions = store.revisions(create["sub"])
            assert [(r.op_id, r.number) for r in revisions] == [(create["id"], 1), (from_b["id"], 2),
                                                                 (from_a["id"], 3)]
            assert [r.seq for r in revisions] == sorted({r.seq for r in revisions})
            assert store.submission(create["sub"]).head == from_a["id"]
            assert store.submission(create["sub"]).revisions == 3
            assert [c.revisions for c in store.conflicts()] == [(from_b["id"], from_a["id"])]

    def test_a_twin_push_committed_after_the_batch_was_decided_makes_its_operations_duplicates(self, store):
        device = self.make_device(store)
        ops = [create_op(n=1, answers={"age": 20}), create_op(n=2, answers={"age": 21})]
        racing = WritesFirst(store, lambda: push_ops(store, device, ops))
        response = push_ops(racing, device, ops)
        assert _statuses(response) == ["duplicate", "duplicate"]
        assert [r.details["original"]["status"] for r in response.results] == ["created", "created"]
        with store.snapshot():
            assert [len(store.revisions(op["sub"])) for op in ops] == [1, 1]
            assert store.device_state(str(device.id)).last_op == ops[-1]["id"]

    def test_a_batch_decides_in_order_what_one_by_one_decides(self, store):
        """Creates, corrections, deletes, repeats and bad ops in one push: the same results both ways."""
        def scenario():
            create = create_op(answers={"age": 30})
            fix = correct_op(create["sub"], create["id"], answers={"age": 31, "heard": "no"})
            rival = correct_op(create["sub"], create["id"], answers={"age": 32})  # concurrent edit
            gone = delete_op(create["sub"], rival["id"])
            late = correct_op(create["sub"], fix["id"], answers={"age": 33})  # edit after delete
            twin = create_op(create["sub"])  # submission exists
            orphan = correct_op(str(uuid.uuid4()), "nothing")  # submission unknown
            bad = {"id": f"bad-{uuid.uuid4()}", "kind": "x"}
            return [create, fix, rival, dict(fix), gone, late, twin, orphan, bad,
                    create_op(answers={"age": 200}), create_op(ver="2")]

        device = self.make_device(store)
        batched = push_ops(store, device, scenario())
        faulty = FaultyStore(store, faults=one_by_one("insert_op", 10**9, Crash()))
        separate = push_ops(faulty, self.make_device(store), scenario())

        def shape(response):
            return [(r.status, r.details.get("code"), r.details.get("head"), r.details.get("conflict"),
                     r.details.get("rev"), [i["code"] for i in r.details.get("reasons", [])])
                    for r in response.results]

        assert shape(batched) == shape(separate)
        assert _statuses(batched) == ["created", "created", "created", "duplicate", "created", "created",
                                      "quarantined", "quarantined", "rejected", "quarantined", "quarantined"]
        with store.snapshot():
            conflicts = sorted(c.kind for c in store.conflicts())
        assert conflicts == ["concurrent-edit", "concurrent-edit", "edit-after-delete", "edit-after-delete"]

    @pytest.mark.parametrize("path", ["batch", "one by one"])
    def test_each_ledger_seq_is_its_revisions_or_its_quarantined_items(self, store, path):
        """The ledger's seqs need no index of their own to stay unique (the SQL store's migration 0018): each
        is the seq of the revision or the quarantined item its operation wrote, which are unique where they
        are stored."""
        create = create_op()
        fix = correct_op(create["sub"], create["id"], answers={"age": 31})
        ops = [create, fix, dict(fix), delete_op(create["sub"], fix["id"]), create_op(create["sub"]),
               correct_op(str(uuid.uuid4()), "nothing"), {"id": f"bad-{uuid.uuid4()}", "kind": "x"},
               create_op(answers={"age": 200}), create_op()]
        separate = FaultyStore(store, faults=one_by_one("insert_op", 10**9, Crash()))
        response = push_ops(store if path == "batch" else separate, self.make_device(store), ops)
        assert set(_statuses(response)) == {"created", "duplicate", "quarantined", "rejected"}
        with store.snapshot():
            ledger = store.find_ops([op["id"] for op in ops])
            written = {r.seq for sub in {create["sub"], ops[-1]["sub"]} for r in store.revisions(sub)}
            held = {item.seq for item in store.quarantined(include_resolved=True)}
        assert len(ledger) == len(ops) - 1  # the repeated correction is its original's duplicate
        seqs = [record.seq for record in ledger.values()]
        assert len(set(seqs)) == len(seqs) and set(seqs) <= written | held
        assert written and held and not written & held


def push_request(device: DeviceRef, ops: list[dict]):
    """Return a parsed push request naming ``device``."""
    return PushRequest.from_wire({"protocol": PROTOCOL, "device_id": str(device.id), "ops": ops})
