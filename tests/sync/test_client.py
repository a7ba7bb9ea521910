"""The device client end to end, in process, with injected faults."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sync.client import Backoff
from sync.client import LocalTransport
from sync.client import Outbox
from sync.client import Response
from sync.client import SyncClient
from sync.client.__main__ import main
from sync.errors import EnvelopeInvalid
from sync.errors import ServerRefused
from sync.errors import TransportFailed
from sync.memory import MemoryStore
from sync.protocol import Limits
from sync.testing.fakes import T0
from sync.testing.fakes import FakeForms


class Killed(BaseException):
    """The phone's process dies: nothing may catch this on the way up."""


@pytest.fixture
def store():
    return MemoryStore(forms=FakeForms.standard())


@pytest.fixture
def server(store):
    return LocalTransport(store, clock=lambda: T0, kill_with=Killed)


def _client(path, server, sleeps=None, **kwargs) -> SyncClient:
    return SyncClient(Outbox(path), server, sleep=(sleeps.append if sleeps is not None else lambda s: None),
                      rng=random.Random(1), clock=lambda: T0, **kwargs)


@pytest.fixture
def enrolled(tmp_path, server):
    server.add_enrolment_code("K7QX-3M9D-WPRT", user_id=7)
    client = _client(tmp_path / "outbox.sqlite", server)
    client.enrol("K7QX-3M9D-WPRT", "phone 1")
    return client


def _stored(store, subs) -> list[int]:
    with store.snapshot():
        return [len(store.revisions(sub)) for sub in subs]


def test_enrol_push_and_pull_round_trip(enrolled, store):
    subs = [enrolled.create("awareness", "1", {"age": 20 + i}) for i in range(5)]
    with store.transaction():
        store.record_change("forms", "awareness@1", {"state": "open"})
        store.record_change("assignments:7", "2025", {"communes": ["31001"], "quota": 40})
    assert enrolled.sync() == {"created": 5}
    assert _stored(store, subs) == [1] * 5
    assert enrolled.outbox.rows("forms") == {"awareness@1": {"state": "open"}}
    assert enrolled.outbox.rows("assignments:7") == {"2025": {"communes": ["31001"], "quota": 40}}
    status = enrolled.outbox.status()
    assert status["pending"] == 0 and status["archived"] == {"created": 5} and status["clock_skew_s"] == 0


def test_a_lost_answer_after_commit_is_retried_to_exactly_once(enrolled, server, store):
    subs = [enrolled.create("awareness", "1", {"age": 30}) for _ in range(3)]
    server.faults = ["drop", "timeout"]
    assert enrolled.push() == {"duplicate": 3}
    assert _stored(store, subs) == [1, 1, 1]
    assert enrolled.outbox.status()["pending"] == 0


def test_a_kill_after_commit_then_reopen_resumes_exactly_once(tmp_path, enrolled, server, store):
    subs = [enrolled.create("awareness", "1", {"age": 30}) for _ in range(4)]
    server.faults = ["kill"]
    with pytest.raises(Killed):
        enrolled.push()
    enrolled.outbox.close()
    reopened = _client(tmp_path / "outbox.sqlite", server)
    assert reopened.outbox.status()["pending"] == 4  # the answer never arrived
    assert reopened.push() == {"duplicate": 4}
    assert _stored(store, subs) == [1] * 4


def test_a_kill_while_settling_locally_loses_nothing(tmp_path, enrolled, store, monkeypatch):
    subs = [enrolled.create("awareness", "1", {"age": 30}) for _ in range(3)]
    original = enrolled.outbox.settle

    def dying_settle(results, epoch):
        with enrolled.outbox.transaction() as db:
            db.execute("DELETE FROM outbox")
            raise Killed()  # mid-transaction: the delete must not survive

    monkeypatch.setattr(enrolled.outbox, "settle", dying_settle)
    with pytest.raises(Killed):
        enrolled.push()
    monkeypatch.setattr(enrolled.outbox, "settle", original)
    enrolled.outbox.close()
    reopened = _client(tmp_path / "outbox.sqlite", enrolled.transport)
    assert reopened.push() == {"duplicate": 3}
    assert _stored(store, subs) == [1, 1, 1]


def test_503_and_429_are_retried_after_retry_after_with_jitter(tmp_path, server):
    server.add_enrolment_code("C1")
    sleeps: list[float] = []
    client = _client(tmp_path / "o.sqlite", server, sleeps)
    client.enrol("C1")
    client.create("awareness", "1", {"age": 30})
    server.faults = [Response(503, {"retry-after": "30"}), Response(429, {"retry-after": "7"}), "timeout"]
    assert client.push() == {"created": 1}
    assert len(sleeps) == 3
    assert sleeps[0] >= 30 and sleeps[1] >= 7
    assert 0.5 * 8 <= sleeps[2] <= 8  # third attempt: 2 s * 2**2, jittered down to half at most


def test_backoff_gives_up_and_keeps_the_outbox(tmp_path, server):
    server.add_enrolment_code("C1")
    client = _client(tmp_path / "o.sqlite", server, backoff=Backoff(attempts=3))
    client.enrol("C1")
    client.create("awareness", "1", {"age": 30})
    server.faults = ["timeout"] * 3
    with pytest.raises(TransportFailed):
        client.push()
    assert client.outbox.status()["pending"] == 1


def test_413_halves_the_batch_until_it_fits(tmp_path, store):
    server = LocalTransport(store, clock=lambda: T0, limits=Limits(max_push_bytes=2500, max_push_ops=500))
    server.add_enrolment_code("C1")
    client = _client(tmp_path / "o.sqlite", server)
    client.enrol("C1")
    subs = [client.create("awareness", "1", {"age": 30, "note": "x" * 100}) for _ in range(20)]
    assert client.push() == {"created": 20}
    assert _stored(store, subs) == [1] * 20
    assert any(size for path, size in server.requests if path.endswith("push"))


def test_a_retry_status_stops_the_batch_and_the_rest_follows(enrolled, store):
    from sync.errors import StoreUnavailable
    from sync.testing.fakes import FaultyStore
    from sync.testing.fakes import one_by_one

    subs = [enrolled.create("awareness", "1", {"age": 30}) for _ in range(4)]
    lock_timeout = StoreUnavailable("lock", retry_after=3)
    enrolled.transport.store = FaultyStore(store, faults=one_by_one("insert_revision", 2, lock_timeout))
    assert enrolled.push() == {"created": 4, "retry": 1, "not-processed": 2}
    assert _stored(store, subs) == [1] * 4


def test_revocation_and_bad_tokens_never_delete_the_outbox(enrolled, server):
    enrolled.create("awareness", "1", {"age": 30})
    server.revoke(enrolled.outbox.get("device_id"))
    with pytest.raises(ServerRefused) as caught:
        enrolled.push()
    assert caught.value.fields["status"] == 403 and caught.value.fields["problem"] == "device-revoked"
    enrolled.outbox.set(token="stale")
    with pytest.raises(ServerRefused) as caught:
        enrolled.push()
    assert caught.value.fields["status"] == 401
    assert enrolled.outbox.status()["pending"] == 1


def test_quarantined_and_rejected_ops_are_archived_and_shown(enrolled):
    enrolled.create("awareness", "404", {"age": 30})
    with pytest.raises(EnvelopeInvalid):  # the client refuses to queue what the server would reject
        enrolled.outbox.enqueue({"kind": "bogus"})
    # an outbox restored from an older client's backup may still hold one: the server rejects it alone
    enrolled.outbox.restore([{"id": "bogus-1", "n": 999, "kind": "bogus"}])
    assert enrolled.push() == {"quarantined": 1, "rejected": 1}
    problems = enrolled.outbox.status()["problems"]
    assert [p["status"] for p in problems] == ["quarantined", "rejected"]


def test_corrections_chain_on_the_device_and_on_the_server(enrolled, store):
    sub = enrolled.create("awareness", "1", {"age": 30})
    enrolled.push()
    enrolled.correct(sub, "awareness", "1", {"age": 31})
    enrolled.correct(sub, "awareness", "1", {"age": 32})
    enrolled.delete(sub, "entered twice")
    assert enrolled.push() == {"created": 3}
    with store.snapshot():
        assert store.submission(sub).deleted and store.conflicts() == []


def test_epoch_change_re_pushes_the_archive_exactly_once(enrolled, store):
    early = [enrolled.create("awareness", "1", {"age": 30}) for _ in range(3)]
    enrolled.push()
    backup = store.backup()
    late = [enrolled.create("awareness", "1", {"age": 40}) for _ in range(2)]
    enrolled.push()
    fix = enrolled.correct(late[0], "awareness", "1", {"age": 41})["id"]
    store.restore(backup)  # the server lost ``late``; the device still has ``fix`` queued
    counts = enrolled.sync()
    assert counts == {"duplicate": 3, "created": 3}
    assert _stored(store, early + late) == [1, 1, 1, 2, 1]
    with store.snapshot():
        assert store.submission(late[0]).head == fix
        assert enrolled.outbox.get("epoch") == store.epoch()


def test_pull_pages_commit_with_their_cursor_and_resume(enrolled, server, store):
    with store.transaction():
        for i in range(60):
            store.record_change("places", f"p{i:02}", {"name": "x" * 200})
    enrolled.page_bytes = 4096
    server.faults = [None, None, "drop"]
    with pytest.raises(TransportFailed):
        enrolled.backoff = Backoff(attempts=1)
        enrolled.pull()
    partial = enrolled.outbox.rows("places")
    assert 0 < len(partial) < 60
    enrolled.backoff = Backoff()
    assert enrolled.pull() >= 1
    assert len(enrolled.outbox.rows("places")) == 60


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(faults=st.lists(st.sampled_from([None, "drop", "timeout", "kill"]), max_size=12),
       batch=st.integers(1, 6))
@example(faults=["drop"] * 8, batch=1)
def test_any_fault_sequence_ends_exactly_once(tmp_path_factory, faults, batch):
    store = MemoryStore(forms=FakeForms.standard())
    server = LocalTransport(store, clock=lambda: T0, kill_with=Killed)
    server.add_enrolment_code("C")
    path = tmp_path_factory.mktemp("o") / "outbox.sqlite"
    client = _client(path, server, batch_size=batch)
    client.enrol("C")
    subs = [client.create("awareness", "1", {"age": 20 + i}) for i in range(7)]
    server.faults = list(faults)
    for _ in range(len(faults) + 2):
        try:
            client.push()
            break
        except Killed:
            client.outbox.close()
            client = _client(path, server, batch_size=batch)
        except TransportFailed:
            # Enough drops in a row and the client gives up this sync, keeping its outbox; the
            # phone syncs again later (found by hypothesis: eight drops in a row).
            continue
    server.faults = []
    client.push()
    assert client.outbox.status()["pending"] == 0
    assert _stored(store, subs) == [1] * 7
    client.outbox.close()


def test_cli_enrols_and_reports_status(tmp_path, server, capsys):
    server.add_enrolment_code("CODE-1")
    db = str(tmp_path / "cli.sqlite")
    assert main(["--db", db, "enrol", "--server", "http://unused", "--code", "CODE-1"], transport=server) == 0
    assert main(["--db", db, "status"]) == 0
    assert '"enrolled": true' in capsys.readouterr().out
    assert main(["--db", db, "enrol", "--server", "http://unused", "--code", "CODE-1"], transport=server) == 1
    assert "sync-not-found" in capsys.readouterr().err


def test_a_replayed_older_page_never_overwrites_newer_rows(tmp_path):
    from sync.protocol import BucketChanges
    from sync.protocol import PullPage

    outbox = Outbox(tmp_path / "o.sqlite")

    def page(v, data):
        change = {"op": "put", "key": "k", "v": v, "d": data}
        return PullPage(epoch="e", cursor=f"c{v}", has_more=False, server_time="t",
                        buckets={"places": BucketChanges(changes=(change,))})

    outbox.apply_page(page(9, {"name": "new"}))
    outbox.apply_page(page(5, {"name": "old"}))
    assert outbox.rows("places") == {"k": {"name": "new"}}
