"""Round plans through the API: proposed from the stored rounds, edited with the recorded seed, approved
into assignments that devices pull; who may do what; every refusal a documented problem."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func
from sqlalchemy import select

from server.extensions import db
from server.models import Assignment
from server.models import AuditEntry
from server.models import BucketChange
from server.models import Respondent
from server.models import Round
from server.models import User
from server.sync.buckets import assignment_key
from tests.plan_site import REACHED
from tests.plan_site import build
from tests.problem_shape import assert_problem


@pytest.fixture
def site(app):
    return build(app)


def _propose(site, client, who="p-planner", **body):
    response = client.post("/api/v1/plans", json={"round": 2019, **body}, headers=site.headers[who])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_proposal_is_built_from_the_last_round_and_stored_as_a_draft(site, client):
    plan = _propose(site, client, seed=7)
    with site.app.app_context():
        attempted = db.session.scalar(select(func.count()).select_from(Respondent)
                                      .where(Respondent.round == 2018))
    assert plan["status"] == "draft" and plan["based_on"] == 2018
    assert plan["parameters"]["interviews"] == attempted  # the last round's interviews, refusals included
    assert plan["parameters"]["communes"] == 4 and plan["parameters"]["seed"] == 7
    assert REACHED in plan["parameters"]["reached"]  # outreach after the last round
    by_district = {}
    for line in plan["communes"]:
        by_district.setdefault(line["district"], []).append(line)
        assert 0 < line["pi"] <= 1 and line["take"] >= 1
        assert line["enumerator"] == f"enum-{line['district']}"  # who worked there last round
        assert line["reason"] is not None
    assert set(by_district) == set(site.districts)
    assert all(len(lines) <= 4 for lines in by_district.values())
    counts = {k: len(v) for k, v in by_district.items()}
    assert {d["district"]: d["communes"] for d in plan["districts"]} == counts
    assert plan["gain"] and {"measure", "place", "before", "after"} <= set(plan["gain"][0])
    # a coordinator reads the plan; other districts' enumerators are not named to them
    again = client.get(f"/api/v1/plans/{plan['id']}", headers=site.headers["coord-a"]).get_json()
    mine = site.districts[0]
    assert [dict(c, enumerator=None) for c in again["communes"]] == [dict(c, enumerator=None)
                                                                    for c in plan["communes"]]
    assert all((c["enumerator"] is not None) == (c["district"] == mine) for c in again["communes"])


def test_an_edit_redraws_with_the_recorded_seed_and_never_drops_a_drawn_commune(site, client):
    plan = _propose(site, client)
    url, planner = f"/api/v1/plans/{plan['id']}", site.headers["p-planner"]
    same = client.patch(url, json={"interviews": plan["parameters"]["interviews"]},
                        headers=planner).get_json()
    assert [c["commune"] for c in same["communes"]] == [c["commune"] for c in plan["communes"]]
    first = plan["communes"][0]["commune"]
    dropped = client.patch(url, json={"takes": {first: 0}}, headers=planner)
    assert_problem(dropped, 422, "validation-failed")
    assert "cannot be dropped" in dropped.get_json()["errors"][0]["detail"]
    changed = client.patch(url, json={"takes": {first: 33}, "notes": "more in the first"}, headers=planner)
    assert changed.status_code == 200, changed.get_json()
    line = next(c for c in changed.get_json()["communes"] if c["commune"] == first)
    assert line["take"] == 33 and changed.get_json()["notes"] == "more in the first"
    smaller = client.patch(url, json={"communes": 2}, headers=planner).get_json()
    assert smaller["parameters"]["seed"] == plan["parameters"]["seed"]
    assert all(d["communes"] <= 2 for d in smaller["districts"])
    with site.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "plan.edit")) == 3


def _assignments(app, year):
    with app.app_context():
        rows = db.session.execute(select(User.username, Assignment).join(User).join(Round)
                                  .where(Round.year == year)).all()
        return {(name, a.commune.key): a.quota for name, a in rows}


def test_approval_makes_the_assignments_and_a_second_approval_supersedes(site, client):
    plan = _propose(site, client)
    approved = client.post(f"/api/v1/plans/{plan['id']}/approve", headers=site.headers["p-planner"])
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "approved" and approved.get_json()["approved_by"] == "p-planner"
    expected = {(c["enumerator"], c["commune"]): c["take"] for c in plan["communes"]}
    assert _assignments(site.app, 2019) == expected
    with site.app.app_context():  # the devices' bucket holds each assignment
        user_id = db.session.scalar(select(User.id).where(User.username == plan["communes"][0]["enumerator"]))
        keys = set(db.session.scalars(select(BucketChange.key).where(
            BucketChange.bucket == f"assignments:{user_id}", BucketChange.data.is_not(None))))
    assert assignment_key(2019, plan["communes"][0]["commune"]) in keys
    with site.app.app_context():  # the report's design line for the round is read from the approved plan
        from server.plans.frames import approved_round_plans

        designs = approved_round_plans(db.session)
    today = dt.datetime.now(dt.UTC).date()
    assert designs == {2019: {"kind": "planned", "approved_on": today, "role": "planner",
                              "communes": len(plan["communes"])}}
    assert_problem(client.patch(f"/api/v1/plans/{plan['id']}", json={"communes": 3},
                                headers=site.headers["p-planner"]), 409, "plan-not-draft")

    other = _propose(site, client, who="p-admin", communes=2, seed=99)
    response = client.post(f"/api/v1/plans/{other['id']}/approve", headers=site.headers["p-admin"])
    assert response.status_code == 200, response.get_json()
    first = client.get(f"/api/v1/plans/{plan['id']}", headers=site.headers["p-planner"]).get_json()
    assert first["status"] == "superseded" and first["superseded_at"]
    expected = {(c["enumerator"], c["commune"]): c["take"] for c in other["communes"]}
    assert _assignments(site.app, 2019) == expected  # the first plan's communes were withdrawn
    with site.app.app_context():
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.supersede"))
    assert audit.target_id == str(plan["id"]) and audit.details["by_plan"] == other["id"]


def test_who_may_propose_edit_and_approve(site, client):
    for who in ("coord-a", "p-analyst", "enum-" + site.districts[0]):
        assert_problem(client.post("/api/v1/plans", json={"round": 2019}, headers=site.headers[who]),
                       403, "forbidden")
    assert_problem(client.post("/api/v1/plans", json={"round": 2019}), 401, "unauthenticated")
    plan = _propose(site, client)
    url = f"/api/v1/plans/{plan['id']}"
    assert_problem(client.get(url, headers=site.headers["p-analyst"]), 403, "forbidden")
    # a coordinator chooses enumerators in their districts only, and changes nothing else
    mine = next(c for c in plan["communes"] if c["district"] == site.districts[0])
    theirs = next(c for c in plan["communes"] if c["district"] != site.districts[0])
    assert_problem(client.patch(url, json={"communes": 3}, headers=site.headers["coord-a"]), 403, "forbidden")
    assert_problem(client.patch(url, json={"enumerators": {theirs["commune"]: mine["enumerator"]}},
                                headers=site.headers["coord-a"]), 403, "forbidden")
    assert client.patch(url, json={"enumerators": {mine["commune"]: ""}},
                        headers=site.headers["coord-a"]).status_code == 200
    # city-wide: coord-a may not approve; without an enumerator nobody may
    assert_problem(client.post(f"{url}/approve", headers=site.headers["coord-a"]), 403, "forbidden")
    missing = client.post(f"{url}/approve", headers=site.headers["p-planner"])
    assert_problem(missing, 422, "validation-failed")
    assert missing.get_json()["errors"][0]["pointer"] == f"/enumerators/{mine['commune']}"
    client.patch(url, json={"enumerators": {mine["commune"]: mine["enumerator"]}},
                 headers=site.headers["coord-a"])
    # a coordinator of every district the plan touches may approve it
    assert client.post(f"{url}/approve", headers=site.headers["coord-all"]).status_code == 200


def test_mistakes_are_problems(site, client):
    planner = site.headers["p-planner"]
    assert_problem(client.get("/api/v1/plans/999999", headers=planner), 404, "not-found")
    bad = client.post("/api/v1/plans", json={"round": 2019, "certain": ["nowhere"]}, headers=planner)
    assert_problem(bad, 422, "validation-failed")
    assert bad.get_json()["errors"][0]["pointer"] == "/certain"
    bad = client.post("/api/v1/plans", json={"round": 2019, "district_communes": {"999": 2}}, headers=planner)
    assert_problem(bad, 422, "validation-failed")
    plan = _propose(site, client, certain=[REACHED])
    assert any(c["commune"] == REACHED and c["certainty"] and c["pi"] == 1 for c in plan["communes"])
    listing = client.get("/api/v1/plans?round=2019", headers=planner).get_json()["plans"]
    assert [p["id"] for p in listing] == [plan["id"]]


def test_the_openapi_document_describes_the_plans():
    from server import create_app

    spec = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    from server.api.openapi import build as build_spec

    document = build_spec(spec)
    assert {"get", "post"} <= set(document["paths"]["/api/v1/plans"])
    assert {"get", "patch"} <= set(document["paths"]["/api/v1/plans/{plan_id}"])
    assert "requestBody" in document["paths"]["/api/v1/plans/{plan_id}"]["patch"]
    assert "post" in document["paths"]["/api/v1/plans/{plan_id}/approve"]


def test_the_cli_proposes_shows_and_approves(site):
    runner = site.app.test_cli_runner()
    proposed = runner.invoke(args=["plan", "propose", "--round", "2019", "--communes", "2", "--seed", "3"])
    assert proposed.exit_code == 0, proposed.output
    found = re.match(r"Plan (\d+) for 2019 \(draft\), based on 2018:", proposed.output)
    assert found, proposed.output
    plan_id = found.group(1)
    plan = json.loads(runner.invoke(args=["plan", "show", plan_id, "--json"]).output)
    assert plan["parameters"]["seed"] == 3 and all(d["communes"] <= 2 for d in plan["districts"])
    approved = runner.invoke(args=["plan", "approve", plan_id])
    assert approved.exit_code == 0 and "(approved)" in approved.output
    expected = {(c["enumerator"], c["commune"]): c["take"] for c in plan["communes"]}
    assert _assignments(site.app, 2019) == expected
    again = runner.invoke(args=["plan", "approve", plan_id])
    assert again.exit_code == 1 and "only a draft can change" in again.output


def test_progress_flags_interviews_from_communes_the_plan_did_not_draw(site, client):
    from analysis.population import communes as census_communes
    from server.sync.store import SqlStore
    from tests.server.conftest import write
    from tests.web.conftest import sign_in

    plan = _propose(site, client)
    approved = client.post(f"/api/v1/plans/{plan['id']}/approve", headers=site.headers["p-planner"])
    assert approved.status_code == 200
    drawn = {c["commune"] for c in plan["communes"]}
    census = census_communes()
    district = census.loc[census["commune_key"].isin(drawn), "district_code"].iloc[0]
    here = census[census["district_code"] == district]["commune_key"]
    on_plan = next(k for k in here if k in drawn)
    off_plan = next(k for k in here if k not in drawn)
    template = next(i for i in site.season.interviews if i.round == 2018 and i.answers.get("profile"))
    with site.app.app_context():
        store = SqlStore(db.engine)
        for n, commune in enumerate((on_plan, off_plan, off_plan)):
            answers = json.loads(json.dumps(template.answers))
            answers["round"] = "2019"
            answers["profile"].update(district=district, commune=commune)
            write(store, f"planned-round-{n}", answers)
        db.session.remove()
    progress = client.get("/api/v1/console/progress?round=2019", headers=site.headers["coord-all"])
    lines = progress.get_json()["plan"]
    by_key = {line["key"]: line for line in lines}
    assert by_key[on_plan]["received"] == 1 and not by_key[on_plan]["off_plan"]
    flagged = [line for line in lines if line["off_plan"]]
    assert [(line["key"], line["take"], line["received"]) for line in flagged] == [(off_plan, 0, 2)]
    assert 0 < flagged[0]["pi"] < 1  # the inclusion probability the plan recorded for the commune
    assert lines[-1]["off_plan"]  # listed after the planned communes
    # the page marks the row and says why it matters
    sign_in(client, "coord-all")
    page = client.get("/console/progress?round=2019&lang=en").get_data(as_text=True)
    assert f'<tr data-key="{off_plan}" class="off-plan">' in page
    assert 'id="off-plan-note"' in page and "weighs a lot" in page
