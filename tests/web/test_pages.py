"""The report pages on a seeded site: every page and download, both languages, planners' withheld cells."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest

from tests.problem_shape import assert_problem
from tests.web.conftest import MIN_CELL

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PAGES = ("/reports/", "/reports/districts", "/reports/groups", "/reports/change", "/reports/priorities",
         "/reports/priorities?level=district", "/reports/channels", "/reports/yearly")
WITHHELD = re.compile(r'<td class="withheld"(?: data-label="[^"]*")?><abbr title="[^"]+">–</abbr></td>')


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=ferry-")
    assert response.data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel reads Vietnamese right
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


@pytest.mark.parametrize("role", ["analyst", "planner"])
def test_every_page_in_both_languages_with_accessible_tables(as_role, role):
    client = as_role(role)
    for path in PAGES:
        for lang in ("vi", "en") if role == "planner" else ("en",):
            page = client.get(path + ("&" if "?" in path else "?") + f"lang={lang}")
            html = page.get_data(as_text=True)
            assert page.status_code == 200, (path, html[:500])
            assert f'<html lang="{lang}">' in html, path
            assert page.headers["Content-Language"] == lang
            assert page.headers["Cache-Control"] == "no-store"
            assert "<caption>" in html and '<th scope="col"' in html and '<th scope="row"' in html, path
            assert "http://" not in html and "https://" not in html, path  # nothing from elsewhere
            for select in re.findall(r'<select id="([^"]+)"', html):
                assert f'<label for="{select}">' in html, (path, select)
            links = re.findall(r'href="(/reports/[a-z]+\.csv[^"]*)"', html)
            assert links, path


def test_english_and_vietnamese_texts(as_role):
    client = as_role("planner")
    vi = client.get("/reports/priorities?lang=vi").get_data(as_text=True)
    en = client.get("/reports/priorities?lang=en").get_data(as_text=True)
    assert "Nơi cần ưu tiên, vòng 2018" in vi and "Mức ưu tiên: Cao nhất" in vi
    # the ranking gives its reasons in both languages
    assert "ước lượng" in vi and "estimate" in en
    assert "Priorities, round 2018" in en and "Tier: Highest" in en
    # The cookie remembers the last choice.
    assert '<html lang="en">' in client.get("/reports/channels").get_data(as_text=True)


def test_planners_see_withheld_cells_as_a_dash_with_the_reason(as_role):
    planner = as_role("planner").get("/reports/priorities?lang=en").get_data(as_text=True)
    analyst = as_role("analyst").get("/reports/priorities?lang=en").get_data(as_text=True)
    assert WITHHELD.search(planner)
    assert f"figures from fewer than {MIN_CELL} respondents are withheld" in planner
    assert f"under {MIN_CELL}" in planner
    assert f"fewer than {MIN_CELL} respondents: figures withheld" in planner  # the reasons line
    assert not WITHHELD.search(analyst)
    assert "Analysts see every cell" in analyst


def test_planners_csv_leaves_small_cells_empty_never_zero(as_role):
    planner = _csv(as_role("planner").get("/reports/priorities.csv?round=2018&codes=1"))
    analyst = _csv(as_role("analyst").get("/reports/priorities.csv?round=2018&codes=1"))
    assert len(planner) == len(analyst) == 85
    small = [r for r in planner if r["source"] == "small-area" and int(r["n"]) < MIN_CELL]
    assert small
    assert all(r["knowledge"] == "" and r["risk"] == "" and r["suppressed"] == "True" for r in small)
    by_commune = {r["commune_key"]: r for r in analyst}
    assert all(by_commune[r["commune_key"]]["knowledge"] != "" for r in small)
    big = [r for r in planner if r["suppressed"] == "False"]
    assert big and all(r["knowledge"] != "" for r in big)


def test_groups_and_channels_withhold_small_groups_for_planners(site, as_role):
    site.app.config["REPORT_MIN_CELL"] = 200  # larger than some groups in this small season
    try:
        groups = _csv(as_role("planner").get("/reports/groups.csv?round=2018&codes=1"))
        page = as_role("planner").get("/reports/groups?round=2018").get_data(as_text=True)
    finally:
        site.app.config["REPORT_MIN_CELL"] = MIN_CELL
    small = [r for r in groups if int(r["n"]) < 200]
    assert small and all(r["estimate"] == "" for r in small)
    assert WITHHELD.search(page)


def test_every_table_downloads_as_csv_and_xlsx(as_role):
    client = as_role("analyst")
    assert {r["district_code"] for r in _csv(client.get("/reports/overview.csv?codes=1"))} == {"all"}
    districts = _csv(client.get("/reports/districts.csv?codes=1"))
    assert {r["round"] for r in districts} == {"2017", "2018"} and "district_name" in districts[0]
    change = _csv(client.get("/reports/change.csv?from=2017&to=2018&codes=1"))
    assert {(r["from"], r["to"]) for r in change} == {("2017", "2018")}
    channels = _csv(client.get("/reports/channels.csv?round=2018&codes=1"))
    assert {r["channel"] for r in channels} >= {"mobile_team"}
    for part in ("awareness", "outreach_totals", "outreach"):
        response = client.get(f"/reports/yearly.csv?round=2018&part={part}&codes=1")
        assert _csv(response)
    assert_problem(client.get("/reports/yearly.csv?part=secrets"), 422, "validation-failed")
    assert_problem(client.get("/reports/users.csv"), 404, "not-found")
    assert_problem(client.get("/reports/priorities.json"), 404, "not-found")
    xlsx = client.get("/reports/yearly.xlsx?round=2018")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.get_data()), read_only=True)
    assert book.sheetnames == ["awareness", "outreach_totals", "outreach", "outreach_plan"]
    book.close()


def test_every_download_link_on_the_pages_works(as_role):
    client = as_role("planner")
    for path in PAGES:
        html = client.get(path).get_data(as_text=True)
        for link in set(re.findall(r'href="(/reports/[a-z]+\.(?:csv|xlsx)[^"]*)"', html)):
            response = client.get(link.replace("&amp;", "&"))
            assert response.status_code == 200, (path, link)


def test_bad_choices_are_problems_shown_as_pages(as_role):
    client = as_role("analyst")
    page = client.get("/reports/groups?round=1999", headers=HTML)
    assert page.status_code == 422 and page.headers["Ferry-Problem"] == "validation-failed"
    assert 'id="problem-code">validation-failed<' in page.get_data(as_text=True)
    assert_problem(client.get("/reports/priorities?level=city"), 422, "validation-failed")
    missing = client.get("/reports/nothing-here", headers=HTML)
    assert missing.status_code == 404 and missing.headers["Ferry-Problem"] == "not-found"
    assert 'href="/reports/"' in missing.get_data(as_text=True)  # signed in: the way back, not a sign-in link
    assert_problem(client.get("/reports/change?from=2018&to=2018"), 422, "validation-failed")


def test_reasons_in_vietnamese_when_the_ranking_has_them(as_role, monkeypatch):
    from server.reports import service as reports

    original = reports.priorities

    def with_vietnamese(*args, **kwargs):
        frame = original(*args, **kwargs)
        return frame.assign(reasons_vi=["lý do " + r for r in frame["reasons"]])

    monkeypatch.setattr(reports, "priorities", with_vietnamese)
    client = as_role("planner")
    vi = client.get("/reports/priorities?lang=vi").get_data(as_text=True)
    en = client.get("/reports/priorities?lang=en").get_data(as_text=True)
    assert "lý do rural;" in vi
    assert "lý do" not in en and "rural;" in en


def test_the_full_report_page_and_its_tables(as_role):
    analyst = as_role("analyst")
    page = analyst.get("/reports/full?round=2018&lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert html.count("<svg") == 5 and '<html lang="en">' in html and "<script" not in html
    # self-contained: its own stylesheet is allowed, nothing else
    assert "style-src 'unsafe-inline'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    overview = analyst.get("/reports/?lang=en").get_data(as_text=True)
    assert 'href="/reports/full?round=2018"' in overview
    assert 'href="/reports/full/tables.xlsx?round=2018"' in overview
    book = openpyxl.load_workbook(io.BytesIO(analyst.get("/reports/full/tables.xlsx?round=2018").data),
                                  read_only=True)
    try:
        assert {"levels", "priorities", "channels"} <= set(book.sheetnames)
    finally:
        book.close()
    archive = analyst.get("/reports/full/tables.zip?round=2018")
    assert archive.mimetype == "application/zip" and archive.data[:2] == b"PK"
    planner = as_role("planner").get("/reports/full?round=2018&lang=en").get_data(as_text=True)
    assert f"Figures from fewer than {MIN_CELL} respondents are withheld" in planner
    assert_problem(as_role("planner").get("/reports/full/tables.pdf?round=2018"), 404, "not-found")
    assert as_role("enumerator").get("/reports/full?round=2018", headers=HTML).status_code == 403


def test_priorities_and_districts_pages_draw_a_tile_map_with_a_legend(as_role):
    from analysis.report_map import TIER_COLOURS

    client = as_role("planner")
    html = client.get("/reports/priorities?lang=en").get_data(as_text=True)
    tiles = re.findall(r'<rect class="tile"[^>]* fill="(#[0-9a-f]{6})"[^>]*><title>([^<]*)</title>', html)
    assert len(tiles) == 85
    shown = _csv(client.get("/reports/priorities.csv?round=2018&lang=en"))
    tier_of = {f'{r["Place"]} ({r["District"]})': r["Tier"] for r in shown}
    names = {label: code for code, label in (("highest", "Highest"), ("high", "High"), ("medium", "Medium"),
                                             ("lower", "Lower"))}
    for colour, title in tiles:
        commune = title.rsplit(": ", 1)[0]
        assert title.endswith(tier_of[commune]) and colour == TIER_COLOURS[names[tier_of[commune]]], title
    assert "<title id=\"map-title\">Tile map: tiers, round 2018" in html and ">Highest</text>" in html
    districts = client.get("/reports/districts?lang=vi").get_data(as_text=True)
    assert districts.count('class="tile"') == 85 and "Bản đồ ô: điểm hiểu biết trung bình" in districts
