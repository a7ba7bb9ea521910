"""Contract, part 3: pulling buckets by commit-ordered cursor, in byte-bounded pages."""

from __future__ import annotations

import threading

from sync import engine
from sync.protocol import PROTOCOL
from sync.protocol import BucketChanges
from sync.protocol import Cursor
from sync.protocol import Limits
from sync.protocol import PullRequest
from sync.store import DeviceRef
from sync.testing.fakes import T0

_ANY_PAGE = Limits(min_page_bytes=1)


def pull_all(store, device, cursor=None, *, max_bytes=None, limits=_ANY_PAGE):
    """Pull until ``has_more`` is false; return (changes by bucket applied like a client, cursor, pages)."""
    state: dict[str, dict] = {}
    pages = []
    while True:
        request = PullRequest.from_wire({"protocol": PROTOCOL, "device_id": str(device.id), "cursor": cursor,
                                         "max_bytes": max_bytes})
        page = engine.pull(store, device, request, now=T0, limits=limits)
        pages.append(page)
        for name in page.removed:
            state.pop(name, None)
        for name, bucket in page.buckets.items():
            rows = {} if bucket.reset else state.get(name, {})
            for change in bucket.changes:
                if change["op"] == "put":
                    rows[change["key"]] = change["d"]
                else:
                    rows.pop(change["key"], None)
            state[name] = rows
        cursor = page.cursor
        if not page.has_more:
            return state, cursor, pages


class PullScenarios:
    """Pull: initial sync, the late-commit anomaly, paging, resets, removed buckets."""

    def test_first_pull_sends_every_bucket_of_the_device(self, store):
        device = self.make_device(store, user_id=42)
        with store.transaction():
            store.record_change("forms", "awareness@1", {"state": "open"})
            store.record_change("places", "31001", {"name": "Tân An"})
            store.record_change("assignments:42", "2025", {"communes": ["31001"], "quota": 40})
            store.record_change("assignments:43", "2025", {"communes": ["31002"], "quota": 40})
            store.record_change(f"settings:{device.id}", "language", {"value": "vi"})
        state, cursor, _ = pull_all(store, device)
        assert state == {"forms": {"awareness@1": {"state": "open"}}, "places": {"31001": {"name": "Tân An"}},
                         "assignments:42": {"2025": {"communes": ["31001"], "quota": 40}},
                         f"settings:{device.id}": {"language": {"value": "vi"}}}
        again, _, pages = pull_all(store, device, cursor)
        assert again == {} and pages[0].buckets == {}

    def test_a_write_that_commits_late_is_not_skipped(self, store):
        """The Replicache anomaly: T_A takes a seq, T_B commits, the client pulls, T_A commits."""
        device = self.make_device(store)
        _, cursor, _ = pull_all(store, device)
        holding, release = threading.Event(), threading.Event()

        def slow_writer():
            with store.transaction():
                store.record_change("places", "late", {"n": 1})
                holding.set()
                release.wait(10)

        def quick_writer():
            with store.transaction():
                store.record_change("places", "early", {"n": 2})

        slow = threading.Thread(target=slow_writer)
        slow.start()
        assert holding.wait(10)
        quick = threading.Thread(target=quick_writer)
        quick.start()
        quick.join(0.3)  # a store with a plain sequence lets it commit now
        try:
            seen, cursor, _ = pull_all(store, device, cursor)
        finally:
            release.set()
            slow.join(10)
            quick.join(10)
        later, _, _ = pull_all(store, device, cursor)
        delivered = set(seen.get("places", {})) | set(later.get("places", {}))
        assert delivered == {"late", "early"}

    def test_pages_are_bounded_by_bytes_and_resume(self, store):
        device = self.make_device(store)
        with store.transaction():
            for i in range(40):
                store.record_change("places", f"p{i:02}", {"name": "x" * 100})
        budget = 600
        state, cursor, pages = pull_all(store, device, max_bytes=budget)
        assert len(pages) > 5 and set(state["places"]) == {f"p{i:02}" for i in range(40)}
        for page in pages:
            sent = sum(len(str(c)) for b in page.buckets.values() for c in b.changes)
            assert sent <= budget + 200
        # Retrying a page with the same cursor gives the same page (a dropped response is harmless).
        request = PullRequest.from_wire({"protocol": PROTOCOL, "device_id": str(device.id),
                                         "cursor": pages[1].cursor, "max_bytes": budget})
        one = engine.pull(store, device, request, now=T0, limits=Limits(min_page_bytes=1))
        two = engine.pull(store, device, request, now=T0, limits=Limits(min_page_bytes=1))
        assert one == two == pages[2]

    def test_writes_during_a_paged_sync_are_delivered(self, store):
        device = self.make_device(store)
        with store.transaction():
            for i in range(10):
                store.record_change("places", f"p{i}", {"v": 0})
        request = PullRequest.from_wire({"protocol": PROTOCOL, "device_id": str(device.id), "cursor": None,
                                         "max_bytes": 100})
        page = engine.pull(store, device, request, now=T0, limits=Limits(min_page_bytes=1))
        assert page.has_more
        with store.transaction():
            store.record_change("places", "p0", {"v": 1})
            store.record_change("places", "p9", None)
            store.record_change("places", "new", {"v": 1})
        rows = {c["key"]: c["d"] for c in page.buckets["places"].changes}
        _, _, pages = pull_all(store, device, page.cursor)
        for later in pages:
            for change in later.buckets.get("places", BucketChanges()).changes:
                if change["op"] == "put":
                    rows[change["key"]] = change["d"]
                else:
                    rows.pop(change["key"], None)
        assert rows == {**{f"p{i}": {"v": 0} for i in range(1, 9)}, "p0": {"v": 1}, "new": {"v": 1}}

    def test_a_cursor_behind_the_tombstone_horizon_resets_the_bucket(self, store):
        device = self.make_device(store)
        with store.transaction():
            store.record_change("places", "a", {"n": 1})
            store.record_change("places", "b", {"n": 1})
        _, cursor, _ = pull_all(store, device)
        with store.transaction():
            dead = store.record_change("places", "a", None)
        with store.transaction():
            store.purge_tombstones(dead)
        state, _, pages = pull_all(store, device, cursor)
        assert pages[0].buckets["places"].reset
        assert state["places"] == {"b": {"n": 1}}
        assert "forms" not in pages[0].buckets

    def test_a_cursor_of_another_epoch_resets_everything(self, store):
        device = self.make_device(store)
        with store.transaction():
            store.record_change("forms", "f", {"n": 1})
        state, _, pages = pull_all(store, device, cursor_of("some-old-epoch", forms=999))
        assert pages[0].epoch_changed and pages[0].buckets["forms"].reset
        assert state["forms"] == {"f": {"n": 1}}

    def test_a_bucket_the_device_lost_is_removed(self, store):
        device = self.make_device(store, user_id=1)
        _, cursor, _ = pull_all(store, device)
        moved = DeviceRef(device.id, user_id=2)
        _, _, pages = pull_all(store, moved, cursor)
        assert pages[0].removed == ("assignments:1",)
        assert pages[0].buckets["assignments:2"].reset


def cursor_of(epoch: str, **positions: int) -> str:
    """Return an encoded cursor for ``epoch`` at ``positions``."""
    return Cursor(epoch, dict(positions)).encode()
