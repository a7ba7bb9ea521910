"""A fleet of 50 phones with bad links and wrong clocks ends with every submission on the server once."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func
from sqlalchemy import select

from analysis.simulation import generate
from server.extensions import db
from server.forms import registry as form_registry
from server.models import QuarantinedSubmission
from server.models import Submission
from server.simulation.fleet import AppTransport
from server.simulation.fleet import Enumerators
from server.simulation.fleet import stored_submissions
from sync.client import HttpTransport
from sync.simulation.fleet import LINK_FAULTS
from sync.simulation.fleet import FaultPlan
from sync.simulation.fleet import simulate
from tests.conftest import backend
from tests.live_server import live_server

DEVICES = 50
SUBMISSIONS = 5000
OVER_HTTP = 5  # every tenth device crosses a real socket; the rest use the app in-process


def _season_items(total: int) -> list:
    # The design samples 36 communes a round, so a season is never smaller than 144 interviews.
    season = generate(seed=2017, interviews=max(total, 200), rounds=(2017, 2018, 2019, 2020))
    activities = season.activities[: max(1, total // 50)]
    return season.interviews[: total - len(activities)] + activities


@pytest.mark.slow
def test_fleet_loses_nothing_and_counts_nothing_twice(app, places, tmp_path):
    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()
    items = _season_items(SUBMISSIONS)
    assert len(items) == SUBMISSIONS
    in_process = AppTransport(app)
    every = DEVICES // OVER_HTTP
    started = time.perf_counter()
    with live_server(app) as url:
        over_http = HttpTransport(url, timeout=30)
        report = simulate(items, devices=DEVICES, seed=11, faults=FaultPlan.harsh(),
                          transport_factory=lambda i: over_http if i % every == 0 else in_process,
                          new_code=Enumerators(app), outbox_dir=tmp_path / "phones", chunk=(2, 15),
                          sync_chance=0.5)
    elapsed = time.perf_counter() - started
    print(f"\nfleet on {backend()}: {elapsed:.1f} s", report.summary())

    # Every kind of fault really happened, and the devices noticed.
    assert all(report.faults[kind] > 0 for kind in LINK_FAULTS), report.faults
    assert report.reinstalls == 1 and report.restored_ops > 0
    assert sum(1 for s in report.skews_s if abs(s) >= 365 * 86400) > 0
    assert report.retries > 0 and report.statuses["duplicate"] > 0
    assert report.pending == 0 and report.acknowledged == SUBMISSIONS

    stored = stored_submissions(app)
    verdict = report.check({sub_id: s.revisions for sub_id, s in stored.items()})
    assert verdict.ok, str(verdict)
    for sub_id, item in report.generated.items():
        assert stored[sub_id].answers == item.answers, sub_id
        assert stored[sub_id].form_id == item.form_id
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == SUBMISSIONS
        assert db.session.scalar(select(func.count()).select_from(QuarantinedSubmission)) == 0


def test_check_names_what_is_lost_duplicated_or_unexpected(app, places, tmp_path):
    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()
    items = _season_items(30)
    report = simulate(items, devices=3, seed=1, transport_factory=lambda i: AppTransport(app),
                      new_code=Enumerators(app), outbox_dir=tmp_path / "phones")
    stored = {sub_id: s.revisions for sub_id, s in stored_submissions(app).items()}
    assert report.check(stored).ok
    lost, twice = items[0].sub_id, items[1].sub_id
    del stored[lost]
    stored[twice] = 2
    stored["not-generated"] = 1
    verdict = report.check(stored)
    assert (verdict.lost, verdict.duplicated, verdict.unexpected) == ([lost], [twice], ["not-generated"])
    assert not verdict.ok
    assert report.check(list(stored) + [twice]).duplicated == [twice]

