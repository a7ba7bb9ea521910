"""Outreach plans through the JSON API: proposed by a planner, edited and approved within the console's scope
rules, frozen once approved, compared with the outreach log, and reported (HTML and DOCX) with each round's
design."""

from __future__ import annotations

import pytest

from analysis.outreach_plan import CHANNEL_ACTIVITIES
from analysis.population import communes as census_communes
from tests.console.outreach_site import ONE_DISTRICT
from tests.console.outreach_site import bearer
from tests.console.outreach_site import drop_site
from tests.console.outreach_site import make_site
from tests.docx_reader import data_tables
from tests.docx_reader import open_docx
from tests.docx_reader import texts
from tests.problem_shape import assert_problem

BASE = "/api/v1/outreach-plans"


@pytest.fixture(scope="module")
def site(migrated_database, tmp_path_factory):
    app, url = make_site(migrated_database, tmp_path_factory.mktemp("outreach"))
    yield app
    drop_site(app, url)


@pytest.fixture(scope="module")
def heads(site):
    return {name: bearer(site, name) for name in (
        "web-planner", "web-admin", "web-coordinator", "coord-all", "web-analyst", "web-enumerator")}


def _propose(client, headers, year, round_):
    return client.post(BASE, json={"year": year, "round": round_}, headers=headers)


def test_a_planner_proposes_a_plan_with_reasons_in_both_languages(site, heads):
    client = site.test_client()
    answer = _propose(client, heads["web-planner"], 2019, 2018)
    assert answer.status_code == 201, answer.get_json()
    plan = answer.get_json()
    assert (plan["year"], plan["status"], plan["source_round"]) == (2019, "draft", 2018)
    places = census_communes()
    district_of = dict(zip(places["commune_key"], places["district_code"], strict=True))
    assert len({row["district"] for row in plan["rows"]}) == 9
    for row in plan["rows"]:
        assert row["channel"] in CHANNEL_ACTIVITIES
        assert row["communes"] and {district_of[c] for c in row["communes"]} == {row["district"]}
        assert row["reason"] and row["reason_vi"] and row["reason"] != row["reason_vi"]
    # the list shows it; proposing again replaces the draft rather than adding a second plan
    assert [p["year"] for p in client.get(BASE, headers=heads["web-admin"]).get_json()["plans"]] == [2019]
    again = _propose(client, heads["web-admin"], 2019, 2018).get_json()
    assert len(again["rows"]) == len(plan["rows"])
    assert [p["year"] for p in client.get(BASE, headers=heads["web-planner"]).get_json()["plans"]] == [2019]


def test_roles_and_districts_bound_who_sees_edits_and_approves(site, heads):
    client = site.test_client()
    assert _propose(client, heads["web-planner"], 2020, 2018).status_code == 201
    for role in ("web-analyst", "web-enumerator"):
        assert_problem(client.get(BASE, headers=heads[role]), 403, "forbidden")
    coordinator = heads["web-coordinator"]
    # a coordinator does not propose a whole city's plan
    assert_problem(_propose(client, coordinator, 2021, 2018), 403, "forbidden")
    seen = client.get(f"{BASE}/2020", headers=coordinator).get_json()["rows"]
    assert seen and {row["district"] for row in seen} == {ONE_DISTRICT}
    everything = client.get(f"{BASE}/2020", headers=heads["web-planner"]).get_json()["rows"]
    assert len(everything) > len(seen)
    # rows in another district: refused, pointing at the field
    other = next(row for row in everything if row["district"] != ONE_DISTRICT)
    body = {"district": other["district"], "group": "rural", "channel": "mobile_team",
            "communes": other["communes"]}
    problem = assert_problem(client.post(f"{BASE}/2020/rows", json=body, headers=coordinator), 422,
                             "validation-failed")
    assert any(e["pointer"] == "/district" for e in problem["errors"])
    assert_problem(client.put(f"{BASE}/2020/rows/{other['id']}", json=body, headers=coordinator), 422)
    assert_problem(client.delete(f"{BASE}/2020/rows/{other['id']}", headers=coordinator), 404, "not-found")
    # in their own district: a commune of another district and a channel no activity runs on are refused
    mine = seen[0]
    bad = {"district": ONE_DISTRICT, "group": "rural", "channel": "family_friends",
           "communes": [*mine["communes"], other["communes"][0]]}
    problem = assert_problem(client.post(f"{BASE}/2020/rows", json=bad, headers=coordinator), 422)
    assert {e["pointer"] for e in problem["errors"]} == {"/channel", "/communes"}
    good = {"district": ONE_DISTRICT, "group": "young_people", "channel": "event",
            "communes": mine["communes"][:1], "note": "Ngày 30/7 ở trường THPT"}
    added = client.post(f"{BASE}/2020/rows", json=good, headers=coordinator)
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["reason_vi"] == "Ngày 30/7 ở trường THPT"
    changed = client.put(f"{BASE}/2020/rows/{added.get_json()['id']}",
                         json={**good, "channel": "loudspeaker"}, headers=coordinator)
    assert changed.get_json()["channel"] == "loudspeaker"
    assert client.delete(f"{BASE}/2020/rows/{mine['id']}", headers=coordinator).status_code == 204
    # the plan has rows in districts they cannot see: they may not approve it; a coordinator of all may
    assert_problem(client.post(f"{BASE}/2020/approve", headers=coordinator), 403, "forbidden")
    approved = client.post(f"{BASE}/2020/approve", headers=heads["coord-all"]).get_json()
    assert (approved["status"], approved["approved_role"]) == ("approved", "coordinator")


def test_an_approved_plan_is_frozen(site, heads):
    client = site.test_client()
    planner = heads["web-planner"]
    assert _propose(client, planner, 2022, 2018).status_code == 201
    row = client.get(f"{BASE}/2022", headers=planner).get_json()["rows"][0]
    assert client.post(f"{BASE}/2022/approve", headers=planner).status_code == 200
    body = {"district": row["district"], "group": row["group"], "channel": row["channel"],
            "communes": row["communes"]}
    for answer in (client.put(f"{BASE}/2022/rows/{row['id']}", json=body, headers=planner),
                   client.post(f"{BASE}/2022/rows", json=body, headers=planner),
                   client.delete(f"{BASE}/2022/rows/{row['id']}", headers=planner),
                   client.post(f"{BASE}/2022/approve", headers=planner),
                   _propose(client, planner, 2022, 2018)):
        assert_problem(answer, 409, "outreach-plan-approved")
    assert_problem(client.get(f"{BASE}/2031", headers=planner), 404, "not-found")
    for name in ("abc", "10000000000000000000", "٢٠٢٢"):  # not a year the database could hold, or not digits
        assert_problem(client.get(f"{BASE}/{name}", headers=planner), 404, "not-found")
    assert_problem(client.post(BASE, json={"year": 10**12, "round": 2018}, headers=planner), 422,
                   "validation-failed")


def _season_activities():
    from analysis.simulation import generate

    return [a.answers for a in generate(seed=11, interviews=1500, rounds=(2017, 2018)).activities]


def test_the_2018_report_compares_the_approved_plan_with_the_log_and_states_each_rounds_design(site, heads):
    client = site.test_client()
    planner = heads["web-planner"]
    assert _propose(client, planner, 2018, 2017).status_code == 201
    assert_problem(client.get(f"{BASE}/2018/comparison", headers=planner), 404, "not-found")
    assert client.post(f"{BASE}/2018/approve", headers=planner).status_code == 200
    rows = client.get(f"{BASE}/2018/comparison", headers=planner).get_json()["rows"]
    # every district × channel with a session in the log, counted from the generator's own log
    logged = {}
    for answers in _season_activities():
        if answers["activity_date"].startswith("2018"):
            channel = {"day_30_july": "event"}.get(answers["activity_type"], answers["activity_type"])
            logged.setdefault((answers["district"], channel), set()).add(id(answers))
    done = {(r["district"], r["channel"]): r["activities"] for r in rows if r["activities"]}
    assert done == {key: len(ids) for key, ids in logged.items()}
    planned = [r for r in rows if r["planned"]]
    assert planned and all(0 <= r["communes_reached"] <= r["communes_planned"] for r in planned)
    # a coordinator sees their district's lines only
    mine = client.get(f"{BASE}/2018/comparison", headers=heads["web-coordinator"]).get_json()["rows"]
    assert mine and {r["district"] for r in mine} == {ONE_DISTRICT}

    page = client.get("/api/v1/reports/report.html", query_string={"round": 2018, "language": "en"},
                      headers=planner)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "The design of each round" in html
    assert "2017–2018: fixed design, " in html and "communes per district drawn with probability" in html
    assert "The outreach plan for 2018: planned and done" in html and "by a planner" in html
    document = client.get("/api/v1/reports/report.docx", query_string={"round": 2018, "language": "vi"},
                          headers=planner)
    assert document.status_code == 200
    docx = open_docx(document.data)
    assert any(t.startswith("- 2017–2018: thiết kế cố định") for t in texts(docx))
    table = next(t for t in data_tables(docx)
                 if (t["caption"] or "").startswith("Kế hoạch truyền thông năm 2018"))
    assert len([r for r in table["rows"] if r[2] == "có"]) == len(planned)
    # the 2017 report: no plan was approved for that year, and it says so
    html = client.get("/api/v1/reports/report.html", query_string={"round": 2017, "language": "en"},
                      headers=planner).get_data(as_text=True)
    assert "No outreach plan was approved for 2017." in html and "2017: fixed design" in html


def _approved(client, planner, year: int, round_: int) -> None:
    """The plan of ``year`` proposed (from ``round_``) and approved, whatever the tests before left."""
    if client.get(f"{BASE}/{year}", headers=planner).status_code == 404:
        assert _propose(client, planner, year, round_).status_code == 201
    if client.get(f"{BASE}/{year}", headers=planner).get_json()["status"] != "approved":
        assert client.post(f"{BASE}/{year}/approve", headers=planner).status_code == 200


def test_the_12_november_report_shows_the_approved_plan_against_what_was_done(site, heads):
    from tests.web.conftest import PASSWORD
    from tests.web.conftest import sign_in
    from tests.web.test_downloads import download
    from tests.web.test_downloads import page_tables

    api = site.test_client()
    _approved(api, heads["web-planner"], 2018, 2017)
    compared = api.get(f"{BASE}/2018/comparison", headers=heads["web-planner"]).get_json()["rows"]
    client = site.test_client()
    assert sign_in(client, "web-planner", PASSWORD).status_code == 303

    html = client.get("/reports/yearly?round=2018&lang=en").get_data(as_text=True)
    assert "3. The outreach plan for 2018: planned and done" in html and "by a planner" in html
    table = next(t for t in page_tables(html) if t["caption"].startswith("Outreach plan for 2018"))
    assert len(table["rows"]) == len(compared)  # every district × channel planned or done
    assert [r[2] for r in table["rows"]].count("yes") == sum(r["planned"] for r in compared)
    assert sum(int(r[5].replace(",", "")) for r in table["rows"]) == sum(r["activities"] for r in compared)
    # its download is the page's table, cell for cell; the codes keep group codes, space-separated
    assert download(client, "/reports/yearly.csv?round=2018&lang=en&part=outreach_plan")[1:] == table["rows"]
    codes = download(client, "/reports/yearly.csv?round=2018&lang=en&part=outreach_plan&codes=1")
    header, first = codes[0], codes[1]
    assert header[-2:] == ["approved_on", "approved_by"] and first[-1] == "planner"
    planned = first[header.index("groups_planned")]
    assert planned and all(" " not in code and code.islower() for code in planned.split())

    # the Word document holds the same table, in Vietnamese
    html = client.get("/reports/yearly?round=2018&lang=vi").get_data(as_text=True)
    shown = next(t for t in page_tables(html) if t["caption"].startswith("Kế hoạch truyền thông năm 2018"))
    document = client.get("/reports/yearly.docx?round=2018&lang=vi&date=2026-11-12")
    assert document.status_code == 200
    written = next(t for t in data_tables(open_docx(document.data))
                   if (t["caption"] or "").startswith("Kế hoạch truyền thông năm 2018"))
    assert written["rows"] == shown["rows"] and [r[2] for r in written["rows"]].count("có") > 0

    # the API's JSON and Markdown of the report carry the same comparison
    yearly = api.get("/api/v1/reports/yearly?round=2018", headers=heads["web-planner"]).get_json()
    assert yearly["outreach_plan"]["approved_role"] == "planner" and yearly["outreach_plan"]["approved_on"]
    # district_code, as the report's other tables name it (the plan's own endpoint says district)
    assert [{("district" if k == "district_code" else k): v for k, v in row.items()}
            for row in yearly["outreach_plan"]["rows"]] == compared
    markdown = api.get("/api/v1/reports/yearly?round=2018&format=markdown&language=en",
                       headers=heads["web-planner"]).get_data(as_text=True)
    section = markdown.split("## 3. The outreach plan for 2018: planned and done")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][2:]  # past the header and rule
    assert len(rows) == len(compared) and [r.split(" | ")[2] for r in rows] == [r[2] for r in table["rows"]]
    earlier = api.get("/api/v1/reports/yearly?round=2017", headers=heads["web-planner"]).get_json()
    assert earlier["outreach_plan"] is None
    markdown = api.get("/api/v1/reports/yearly?round=2017&format=markdown&language=vi",
                       headers=heads["web-planner"]).get_data(as_text=True)
    assert "Không có kế hoạch truyền thông nào được duyệt cho năm 2017" in markdown

    # a year without an approved plan says so, on the page and in the document
    html = client.get("/reports/yearly?round=2017&lang=en").get_data(as_text=True)
    assert "No outreach plan was approved for 2017." in html and 'id="plan-done"' not in html
    document = client.get("/reports/yearly.docx?round=2017&lang=en&date=2026-11-12")
    assert "No outreach plan was approved for 2017." in texts(open_docx(document.data))
