"""The reports API: indicators, groups, change, priorities, channels and the yearly report."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from analysis.simulation import generate
from tests.docx_reader import data_tables
from tests.docx_reader import letterhead
from tests.docx_reader import open_docx
from tests.problem_shape import assert_problem
from tests.server.conftest import ingest
from tests.server.conftest import write

API = "/api/v1/reports"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def season():
    return generate(5, interviews=1400, rounds=(2017, 2018))


@pytest.fixture
def stored(store, season):
    ingest(store, season.interviews)
    for activity in season.activities:
        write(store, activity.sub_id, activity.answers, form_id=activity.form_id, version=activity.version)
    return season


def test_reports_for_analysts(client, accounts, stored):
    headers = accounts.headers("analyst")
    body = client.get(f"{API}/indicators", headers=headers).get_json()
    rows = body["rows"]
    assert body["min_cell"] == 1
    assert {r["round"] for r in rows} == {2017, 2018}
    assert {r["indicator"] for r in rows} == {"knowledge", "aware_signs_3", "hotline_aware"}
    city = [r for r in rows if r["district_code"] == "all"]
    assert len(city) == 6
    assert all(r["ci_low"] <= r["estimate"] <= r["ci_high"] for r in city)
    assert len({r["district_code"] for r in rows}) == 10

    groups = client.get(f"{API}/groups?round=2018", headers=headers).get_json()["rows"]
    assert {"women_marriage_age", "rural"} <= {g["group"] for g in groups}

    change = client.get(f"{API}/change?from=2017&to=2018", headers=headers).get_json()["rows"]
    assert {r["district_code"] for r in change} >= {"all"}
    assert all(r["from"] == 2017 and r["to"] == 2018 for r in change)

    ranked = client.get(f"{API}/priorities?round=2018&level=district", headers=headers).get_json()
    assert ranked["level"] == "district"
    assert len(ranked["rows"]) == 9
    assert all(r["reasons"] for r in ranked["rows"])

    reach = client.get(f"{API}/channels?round=2018", headers=headers).get_json()["rows"]
    assert "mobile_team" in {r["channel"] for r in reach}

    yearly = client.get(f"{API}/yearly?round=2018", headers=headers).get_json()
    assert yearly["year"] == 2018 and yearly["previous"] == 2017
    assert yearly["awareness"] and yearly["outreach_totals"]
    markdown = client.get(f"{API}/yearly?round=2018&format=markdown&language=en", headers=headers)
    assert markdown.mimetype == "text/markdown"
    assert "2018" in markdown.get_data(as_text=True)


def test_planners_do_not_see_small_cells(app, client, accounts, stored):
    analyst = client.get(f"{API}/indicators?round=2018", headers=accounts.headers("analyst")).get_json()
    sizes = sorted({r["n"] for r in analyst["rows"]})
    cut = sizes[len(sizes) // 2]  # some districts below, some at or above
    app.config["REPORT_MIN_CELL"] = cut
    planner = client.get(f"{API}/indicators?round=2018", headers=accounts.headers("planner")).get_json()
    assert planner["min_cell"] == cut
    small = [r for r in planner["rows"] if r["n"] < cut]
    assert small
    assert all(r["estimate"] is None and r["ci_low"] is None for r in small)
    assert all(r["estimate"] is not None for r in analyst["rows"])
    assert all(r["estimate"] is not None for r in planner["rows"] if r["n"] >= cut)


def test_errors_are_problems(client, accounts, store):
    headers = accounts.headers("planner")
    assert_problem(client.get(f"{API}/groups?round=1999", headers=headers), 422, "validation-failed")
    assert_problem(client.get(f"{API}/groups", headers=headers), 422, "validation-failed")
    assert_problem(client.get(f"{API}/priorities?round=2019&level=city", headers=headers), 422,
                   "validation-failed")
    assert_problem(client.get(f"{API}/yearly?round=2019", headers=headers), 404, "not-found")
    assert_problem(client.get(f"{API}/indicators", headers=accounts.headers("enumerator")), 403, "forbidden")


def test_small_areas_for_every_commune_benchmarked_to_the_districts(app, client, accounts, stored):
    headers = accounts.headers("analyst")
    body = client.get(f"{API}/small-areas?round=2018&indicator=hotline_aware", headers=headers).get_json()
    assert body["indicator"] == "hotline_aware" and body["round"] == 2018 and body["method"] == "REML"
    assert body["covariates"] == ["urban"] and body["sigma2_u"] >= 0
    assert [c["term"] for c in body["coefficients"]] == ["Intercept", "urban"]
    rows = body["rows"]
    assert len(rows) == 85 and len({r["commune_key"] for r in rows}) == 85
    sampled = [r for r in rows if r["n"] > 0]
    assert sampled and all(r["source"] == "small-area" for r in sampled)
    assert all(r["source"] == "model" and r["direct"] is None for r in rows if r["n"] == 0)
    assert all(r["ci_low"] <= r["estimate"] <= r["ci_high"] for r in rows)
    # adult-weighted commune means equal the design-based district estimates of /indicators
    districts = client.get(f"{API}/indicators?round=2018", headers=headers).get_json()["rows"]
    target = {r["district_code"]: r["estimate"] for r in districts if r["indicator"] == "hotline_aware"}
    for code in {r["district_code"] for r in rows}:
        part = [r for r in rows if r["district_code"] == code]
        size = sum(r["adult_population"] for r in part)
        mean = sum(r["estimate"] * r["adult_population"] for r in part) / size
        assert mean == pytest.approx(target[code], abs=1e-9)
    # knowledge is the default; planners do not see communes with fewer than REPORT_MIN_CELL respondents
    cut = sorted(r["n"] for r in sampled)[len(sampled) // 2]
    app.config["REPORT_MIN_CELL"] = cut
    planner = client.get(f"{API}/small-areas?round=2018", headers=accounts.headers("planner")).get_json()
    assert planner["indicator"] == "knowledge" and planner["min_cell"] == cut
    small = [r for r in planner["rows"] if 0 < r["n"] < cut]
    assert small and all(r["estimate"] is None and r["eblup"] is None and r["suppressed"] for r in small)
    assert all(r["estimate"] is not None for r in planner["rows"] if r["n"] == 0 or r["n"] >= cut)


def test_commune_priorities_use_small_area_estimates_with_vietnamese_reasons(client, accounts, stored):
    rows = client.get(f"{API}/priorities?round=2018", headers=accounts.headers("analyst")).get_json()["rows"]
    assert len(rows) == 85
    model = [r for r in rows if r["source"] == "model"]
    assert model and all(r["reasons"].endswith("no interviews here: model estimate") for r in model)
    assert all("ước lượng theo mô hình" in r["reasons_vi"] for r in model)
    assert all("ước lượng vùng nhỏ" in r["reasons_vi"] for r in rows if r["source"] == "small-area")


def test_small_area_errors_are_problems(client, accounts, stored):
    headers = accounts.headers("planner")
    assert_problem(client.get(f"{API}/small-areas?round=2018&indicator=income", headers=headers), 422,
                   "validation-failed")
    assert_problem(client.get(f"{API}/small-areas?indicator=knowledge", headers=headers), 422,
                   "validation-failed")
    assert_problem(client.get(f"{API}/small-areas?round=1999", headers=headers), 422, "validation-failed")
    assert_problem(client.get(f"{API}/small-areas?round=2018", headers=accounts.headers("enumerator")), 403,
                   "forbidden")


# ----------------------------------------------------------------------------- the awareness-gap report
def _levels_estimates(xlsx_bytes):
    book = load_workbook(io.BytesIO(xlsx_bytes), read_only=True)
    try:
        rows = list(book["levels"].iter_rows(values_only=True))
        assert {"about", "levels", "groups", "did", "priorities", "channels"} <= set(book.sheetnames)
    finally:
        book.close()
    column = rows[0].index("Estimate")
    return [row[column] for row in rows[1:]]


def test_gap_report_html_and_tables(app, client, accounts, stored):
    analyst = accounts.headers("analyst")
    page = client.get(f"{API}/report.html?round=2018&language=en", headers=analyst)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert html.count("<svg") == 5 and "Awareness-gap report" in html  # four charts and the tier map
    assert "https://" not in html and "<script" not in html
    vi = client.get(f"{API}/report.html?round=2018", headers=analyst).get_data(as_text=True)
    assert '<html lang="vi">' in vi and "Danh sách tập trung" in vi

    tables = client.get(f"{API}/report.xlsx?round=2018&language=en&codes=1", headers=analyst)
    assert tables.status_code == 200 and "gap-report-2018-en.xlsx" in tables.headers["Content-Disposition"]
    assert all(v is not None for v in _levels_estimates(tables.data))
    archive = client.get(f"{API}/report.zip?round=2018&language=en", headers=analyst)
    assert archive.mimetype == "application/zip"
    assert "levels.csv" in zipfile.ZipFile(io.BytesIO(archive.data)).namelist()

    app.config["REPORT_MIN_CELL"] = 10**6  # every survey cell is small for planners
    planner = accounts.headers("planner")
    assert all(v is None for v in _levels_estimates(
        client.get(f"{API}/report.xlsx?round=2018&language=en&codes=1", headers=planner).data))
    withheld = client.get(f"{API}/report.html?round=2018&language=en", headers=planner).get_data(as_text=True)
    assert withheld.count("<svg") == 5
    assert "Figures from fewer than 1000000 respondents are withheld" in withheld
    assert "% [" in html and "% [" not in withheld  # "12% [10%–14%]": every estimate with its CI is withheld


def test_gap_report_as_json_matches_the_other_endpoints(app, client, accounts, stored):
    analyst = accounts.headers("analyst")
    body = client.get(f"{API}/report.json?round=2018&language=en", headers=analyst).get_json()
    assert body["year"] == 2018 and body["previous"] == 2017 and body["min_cell"] == 1
    assert {"levels", "groups", "did", "did_balance", "small_areas", "risk_model", "priorities",
            "channels", "yearly"} <= set(body["tables"])
    assert body["caveats"] and all(isinstance(c, str) and c for c in body["caveats"])
    assert all(note["code"] and note["text"] for note in body["notes"])
    # the report's levels are the same design-based estimates /indicators serves
    served = client.get(f"{API}/indicators?round=2018", headers=analyst).get_json()["rows"]
    served = {(r["indicator"], r["district_code"]): r["estimate"] for r in served}
    levels = [r for r in body["tables"]["levels"] if r["round"] == 2018]
    assert levels and all(r["estimate"] == pytest.approx(served[(r["indicator"], r["district_code"])])
                          for r in levels if (r["indicator"], r["district_code"]) in served)
    assert sum((r["indicator"], r["district_code"]) in served for r in levels) >= 27
    app.config["REPORT_MIN_CELL"] = 10**6
    planner = client.get(f"{API}/report.json?round=2018", headers=accounts.headers("planner")).get_json()
    assert planner["min_cell"] == 10**6
    assert all(r["estimate"] is None for r in planner["tables"]["levels"])


def test_reports_as_word_documents(client, accounts, stored):
    analyst = accounts.headers("analyst")
    for language, motto, dated in (
            ("vi", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Cần Thơ, ngày 12 tháng 11 năm 2026"),
            ("en", "SOCIALIST REPUBLIC OF VIET NAM", "Cần Thơ, 12 November 2026")):
        response = client.get(f"{API}/yearly?round=2018&format=docx&language={language}&date=2026-11-12",
                              headers=analyst)
        assert response.status_code == 200 and response.mimetype == DOCX
        assert f"yearly-report-2018-{language}.docx" in response.headers["Content-Disposition"]
        document = open_docx(response.data)
        assert letterhead(document)[1][0] == motto and letterhead(document)[1][-1] == dated
        tables = data_tables(document)
        # one table per indicator after the two outreach tables; the city's row closes each
        json = client.get(f"{API}/yearly?round=2018", headers=analyst).get_json()
        city = [r for r in json["awareness"] if r["district_code"] == "all"]
        shown = [t["rows"][-1] for t in tables[2:]]
        assert len(shown) == len(city) >= 3
        for row, figures in zip(shown, city, strict=True):
            assert row[1].startswith(f"{round(100 * figures['estimate'])}%")
            assert row[2] == f"{figures['n']:,}".replace(",", "." if language == "vi" else ",")
    full = client.get(f"{API}/report.docx?round=2018&language=en", headers=analyst)
    assert full.status_code == 200 and "gap-report-2018-en.docx" in full.headers["Content-Disposition"]
    same = client.get(f"{API}/report.json?round=2018&language=en&format=docx", headers=analyst)
    assert same.mimetype == DOCX
    assert [t["rows"] for t in data_tables(open_docx(same.data))] == [
        t["rows"] for t in data_tables(open_docx(full.data))]
    assert_problem(client.get(f"{API}/yearly?round=2018&format=docx&language=both", headers=analyst), 422,
                   "validation-failed")
    assert_problem(client.get(f"{API}/report.docx?round=2018&date=tomorrow", headers=analyst), 422,
                   "validation-failed")


def test_gap_report_errors(client, accounts, store):
    planner = accounts.headers("planner")
    assert_problem(client.get(f"{API}/report.html?round=2018&language=fr", headers=planner), 422,
                   "validation-failed")
    assert_problem(client.get(f"{API}/report.xlsx?round=1999", headers=planner), 422, "validation-failed")
    assert_problem(client.get(f"{API}/report.html", headers=planner), 422, "validation-failed")
    assert_problem(client.get(f"{API}/report.html?round=2018", headers=accounts.headers("enumerator")), 403,
                   "forbidden")
