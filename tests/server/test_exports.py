"""Respondent-level exports: complete, de-identified, labelled, for analysts, coordinators and admins."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from analysis.simulation import generate
from tests.problem_shape import assert_problem
from tests.server.conftest import ingest

URL = "/api/v1/forms/awareness/versions/2017.1/export"


@pytest.fixture(scope="module")
def season():
    return generate(11, interviews=2400, rounds=(2017, 2018))


@pytest.fixture(scope="module")
def small_season():
    return generate(12, interviews=400, rounds=(2017,))


def _ingest(store, season):
    ingest(store, season.interviews)
    return sum(1 for i in season.interviews if i.answers.get("consent") == "yes")


@pytest.fixture
def loaded(store, season):
    return _ingest(store, season)


@pytest.fixture
def loaded_small(store, small_season):
    return _ingest(store, small_season)


def _rows(response):
    assert response.data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_has_every_respondent_and_nothing_identifying(client, accounts, loaded):
    response = client.get(URL + ".csv", headers=accounts.headers("analyst"))
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    rows = _rows(response)
    assert len(rows) == loaded > 1900
    assert response.headers["Ferry-Rows"] == str(loaded)
    assert "submission_id" in response.headers["Ferry-Removed"]
    columns = set(rows[0])
    assert not columns & {"submission_id", "device_id", "start", "end", "instanceID", "instanceName"}
    assert {"round", "commune_key", "sex", "age", "hotline", "channels_mobile_team", "weight",
            "knowledge"} <= columns
    assert {r["sex"] for r in rows} <= {"female", "male", "other"}


def test_labels_in_either_language(client, accounts, loaded_small):
    loaded = loaded_small
    headers = accounts.headers("coordinator")
    vi = _rows(client.get(URL + ".csv?labels=vi", headers=headers))
    en = _rows(client.get(URL + ".csv?labels=en", headers=headers))
    assert len(vi) == len(en) == loaded
    assert "Female" in {r["sex"] for r in en}
    assert "Nữ" in {r["sex"] for r in vi}
    assert_problem(client.get(URL + ".csv?labels=fr", headers=headers), 422, "validation-failed")


def test_identified_export_keeps_submission_ids(client, accounts, small_season, loaded_small):
    rows = _rows(client.get(URL + ".csv?identified=true", headers=accounts.headers("admin")))
    consenting = {i.sub_id for i in small_season.interviews if i.answers.get("consent") == "yes"}
    assert {r["submission_id"] for r in rows} == consenting


def test_xlsx_has_every_respondent(client, accounts, loaded):
    response = client.get(URL + ".xlsx?labels=en", headers=accounts.headers("analyst"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    sheet = book["respondents"]
    rows = list(sheet.iter_rows(values_only=True))
    book.close()
    assert len(rows) == loaded + 1
    header = rows[0]
    assert "submission_id" not in header
    assert {"Female", "Male"} <= {row[header.index("sex")] for row in rows[1:]}


@pytest.mark.parametrize("role", ["planner", "enumerator"])
def test_exports_are_for_analysts_coordinators_and_admins(client, accounts, role, store):
    assert_problem(client.get(URL + ".csv", headers=accounts.headers(role)), 403, "forbidden")


def test_unknown_version_and_unscored_form(client, accounts, store):
    headers = accounts.headers("analyst")
    missing = client.get("/api/v1/forms/awareness/versions/9/export.csv", headers=headers)
    assert_problem(missing, 404, "not-found")
    listed = client.get("/api/v1/forms", headers=headers).get_json()["versions"]
    outreach = next(v["version"] for v in listed if v["form_id"] == "outreach")
    response = client.get(f"/api/v1/forms/outreach/versions/{outreach}/export.csv", headers=headers)
    assert_problem(response, 404, "not-found")
