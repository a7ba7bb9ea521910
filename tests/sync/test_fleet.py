"""The fleet simulator against the in-memory server: faults happen, nothing is lost or doubled."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import pytest

from analysis.simulation.season import Activity
from sync.client import LocalTransport
from sync.memory import MemoryStore
from sync.simulation.fleet import LINK_FAULTS
from sync.simulation.fleet import FaultPlan
from sync.simulation.fleet import allocate
from sync.simulation.fleet import simulate
from sync.testing.fakes import FakeForms


@dataclass(frozen=True)
class Item(Activity):
    """A submission a simulated device sends: the season's fields, and the commune it was made in."""

    commune_key: str | None = None


def _items(n: int) -> list[Item]:
    communes = [f"c{i}" for i in range(12)]
    items = [Item(f"00000000-0000-4000-8000-{i:012d}", "awareness", "1", 2017 + i % 4,
                  dt.date(2017 + i % 4, 6, 1 + i % 28), {"age": 20 + i % 50}, communes[i % len(communes)])
             for i in range(n)]
    return items + [Item(f"00000000-0000-4000-9000-{i:012d}", "outreach", "1", 2018, dt.date(2018, 3, 1),
                         {"age": 30}) for i in range(5)]


def _server():
    forms = FakeForms.standard()
    forms.publish("outreach", "1")
    store = MemoryStore(forms=forms)
    return store, LocalTransport(store)


def _run(tmp_path, faults: FaultPlan, n: int = 300, seed: int = 5):
    store, server = _server()
    codes = itertools.count()

    def new_code(spec):
        code = f"CODE-{next(codes)}"
        server.add_enrolment_code(code, user_id=spec.index)
        return code

    sleeps: list[float] = []
    report = simulate(_items(n), devices=6, transport_factory=lambda i: server, new_code=new_code,
                      faults=faults, seed=seed, outbox_dir=tmp_path, sleep=sleeps.append, delay=sleeps.append,
                      chunk=(2, 10))
    revisions = {sub: len(store.revisions(sub)) for sub in store.backup()["submissions"]}
    return report, revisions, sleeps, server


def test_a_harsh_fleet_stores_everything_once(tmp_path):
    report, revisions, sleeps, server = _run(tmp_path, FaultPlan.harsh())
    assert all(report.faults[kind] > 0 for kind in LINK_FAULTS), report.faults
    assert report.reinstalls == 1 and report.restored_ops > 0
    assert report.retries == len([s for s in sleeps if s >= 0.5]) > 0  # backoff waits, never slept for real
    assert report.pending == 0 and report.acknowledged == len(report.generated)
    verdict = report.check(revisions)
    assert verdict.ok, str(verdict)
    # The reinstalled phone enrolled twice: one code more than devices.
    assert len(server.tokens) == len(report.devices) + 1


def test_skewed_clocks_are_written_into_the_operations(tmp_path):
    report, _, _, _ = _run(tmp_path, FaultPlan(skewed_devices=1.0), n=60)
    assert all(abs(skew) >= 3600 for skew in report.skews_s)


def test_without_faults_every_op_is_created_once(tmp_path):
    report, revisions, sleeps, _ = _run(tmp_path, FaultPlan(), n=120)
    assert report.statuses == {"created": len(report.generated)} and not sleeps
    assert report.check(revisions).ok


def test_allocation_follows_communes_and_is_reproducible():
    items = _items(200)
    specs, work = allocate(items, 5, seed=3)
    assert (specs, work) == allocate(items, 5, seed=3)
    for spec, queue in zip(specs, work, strict=True):
        assert all(i.commune_key in spec.communes for i in queue if i.commune_key)
        assert sum(spec.quotas.values()) == sum(1 for i in queue if i.commune_key)
    assert sorted(i.sub_id for q in work for i in q) == sorted(i.sub_id for i in items)


def test_repeated_ids_are_refused(tmp_path):
    items = _items(3)
    with pytest.raises(ValueError, match="repeat"):
        simulate(items + items[:1], devices=2, transport_factory=lambda i: None, new_code=str,
                 outbox_dir=tmp_path)
