"""Issue 17's done-when: an approved plan goes through sync to the devices' assignments and comes back as
submissions that the estimators weight by the plan's recorded inclusion probabilities.

Real parts: the server on a socket (tests/live_server.py), the planner's HTTP calls, each enumerator's
device as the sync client with its SQLite outbox (sync/client), the answers made by the season generator
(analysis.simulation, drawing the round from the plan), the report loader, the analysis package.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import requests
from sqlalchemy import select

from analysis import tidy
from analysis.levels import round_levels
from analysis.next_round import Plan
from analysis.next_round import design_columns
from analysis.next_round import draw
from analysis.population import communes as census_communes
from analysis.report_estimates import HEADLINE
from analysis.simulation import generate
from analysis.weights import design_weights
from forms import library
from server.accounts.users import enroll_device
from server.extensions import db
from server.models import QuarantinedSubmission
from server.models import RoundPlan
from server.models import Submission
from server.models import SubmissionRevision
from server.models import User
from server.reports import service as reports
from server.reports.request import ReportRequest
from sync.client import HttpTransport
from sync.client import Outbox
from sync.client import SyncClient
from tests.live_server import live_server
from tests.plan_site import build

YEAR = 2019


def _answers_for(frame: pd.DataFrame) -> dict[str, list[dict]]:
    """The season generator's interviews of the planned round: at the plan's communes, ``take`` each
    (refusals included), answered from each commune's own truth."""
    season = generate(seed=23, interviews=1, rounds=(YEAR,), designs={YEAR: frame})
    out: dict[str, list[dict]] = {}
    for interview in season.interviews:
        out.setdefault(interview.commune_key, []).append(interview.answers)
    return out


def test_an_approved_plan_reaches_the_phones_and_comes_back_weighted_by_its_recorded_pi(app, tmp_path):
    site = build(app)
    version = library.load("awareness").version
    with live_server(app) as url:
        planner = {**site.headers["p-planner"]}
        proposed = requests.post(f"{url}/api/v1/plans", json={"round": YEAR, "communes": 2, "seed": 5},
                                 headers=planner, timeout=60)
        assert proposed.status_code == 201, proposed.text
        plan_id = proposed.json()["id"]
        approved = requests.post(f"{url}/api/v1/plans/{plan_id}/approve", headers=planner, timeout=60)
        assert approved.status_code == 200, approved.text
        plan = approved.json()
        with app.app_context():
            answers = _answers_for(Plan.from_json(db.session.get(RoundPlan, plan_id).plan).frame)
        assert {k: len(v) for k, v in answers.items()} == {c["commune"]: c["take"] for c in plan["communes"]}
        for enumerator in sorted({c["enumerator"] for c in plan["communes"]}):
            with app.app_context():
                _, code = enroll_device(db.session, enumerator, "phone", dt.timedelta(hours=1))
                user_id = db.session.scalar(select(User.id).where(User.username == enumerator))
                db.session.commit()
            outbox = Outbox(tmp_path / f"{enumerator}.sqlite")
            device = SyncClient(outbox, HttpTransport(url, timeout=30), sleep=lambda _s: None)
            device.enrol(code)
            device.sync()
            # the phone's assignments are the plan's communes for this enumerator, quota = take
            pulled = {(row["round"], row["commune"]): row["quota"]
                      for row in outbox.rows(f"assignments:{user_id}").values() if row}
            planned = {(YEAR, c["commune"]): c["take"] for c in plan["communes"]
                       if c["enumerator"] == enumerator}
            assert {k: v for k, v in pulled.items() if k[0] == YEAR} == planned
            for (_, commune), quota in sorted(planned.items()):
                for one in answers[commune][:quota]:
                    device.create("awareness", version, one)
            device.sync()
            assert outbox.status()["pending"] == 0
            outbox.close()

    with app.app_context():
        stored = db.session.scalar(select(RoundPlan).where(RoundPlan.id == plan_id))
        recorded = {c.commune.key: c.pi for c in stored.communes}
        frame = Plan.from_json(stored.plan).frame
        data = reports.load(db.session, [2017, 2018, YEAR])
        held = db.session.scalars(select(QuarantinedSubmission.issues)).all()
        heads = db.session.execute(
            select(Submission.id, SubmissionRevision.answers)
            .join(SubmissionRevision, SubmissionRevision.op_id == Submission.head)
            .where(Submission.form_id == "awareness")).all()
    assert held == [], held[:3]
    this = data.respondents[data.respondents["round"] == YEAR]
    assert set(this["commune_key"]) == set(recorded)

    # 1. every respondent's weight is M_i / (pi_i x respondents_i), pi_i as the plan recorded it, times
    # its district's post-stratification factor M_h / (the Horvitz-Thompson total of the district's adults)
    adults = census_communes().set_index("commune_key")["adult_population"]
    district_adults = census_communes().groupby("district_code")["adult_population"].sum()
    respondents = this.groupby("commune_key").size()
    base = this["commune_key"].map(lambda k: adults[k] / (recorded[k] * respondents[k]))
    ht_total = {code: sum(adults[k] / recorded[k] for k in set(group["commune_key"]))
                for code, group in this.groupby("district_code")}
    factor = this["district_code"].map(lambda code: district_adults[code] / ht_total[code])
    np.testing.assert_allclose(this["weight"].to_numpy(), (base * factor).to_numpy(), rtol=1e-9)
    assert (this["pi_commune"].to_numpy() == this["commune_key"].map(recorded).to_numpy()).all()

    # 2. they add up, district by district, to the district's adults; the Horvitz-Thompson total they
    # were scaled from averages M_h over the recorded design's draws: the recorded pi are the draw's
    # true probabilities
    totals = this.groupby("district_code")["weight"].sum()
    for code in totals.index:
        assert totals[code] == pytest.approx(district_adults[code], rel=1e-9)
    rng = np.random.default_rng(0)
    for code, group in frame.groupby("district_code"):
        sizes, pi = group["size"].to_numpy(), group["pi"].to_numpy()
        certain = group["certainty"].to_numpy()
        draws = np.array([draw(rng, sizes, pi, certain) for _ in range(4000)])
        m_i = group["commune_key"].map(adults).to_numpy()
        mean_total = (draws * (m_i / pi)).sum(axis=1).mean()
        assert mean_total == pytest.approx(m_i.sum(), rel=0.03), code  # M_h, within Monte Carlo error
        np.testing.assert_allclose(draws.mean(axis=0), pi, atol=0.03)

    # 3. the report's estimates equal the analysis package's on the same answers, read independently
    form = library.load("awareness")
    # answers that name no commune (the season's refusals) are left out, by the server as here
    submissions = pd.DataFrame([h for h in heads if "profile" in h[1]], columns=["submission_id", "answers"])
    submissions["round"] = [int(a["round"]) for a in submissions["answers"]]
    submissions["district_code"] = [a["profile"]["district"] for a in submissions["answers"]]
    submissions["commune_key"] = [a["profile"]["commune"] for a in submissions["answers"]]
    theirs = tidy.respondents(submissions, form)
    theirs = design_columns(theirs, {YEAR: frame})
    theirs = design_weights(theirs, counts=tidy.response_counts(submissions), calibrate=True)
    ours = reports.indicators(data, ReportRequest(rounds=(2017, 2018, YEAR), min_cell=1, round=YEAR))
    package = round_levels(theirs, indicators=list(HEADLINE), rounds=[YEAR])
    merged = ours.merge(package, on=["round", "indicator", "district_code"], suffixes=("_report", "_package"))
    assert len(merged) == len(HEADLINE) * (len(totals) + 1)
    np.testing.assert_allclose(merged["estimate_report"], merged["estimate_package"], rtol=1e-9)
    np.testing.assert_allclose(merged["se_report"], merged["se_package"], rtol=1e-9)
