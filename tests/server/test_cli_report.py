"""``flask --app server report ...``: report files by extension, user errors, the reindex."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from analysis.simulation import generate
from server.extensions import db
from server.models import Respondent
from tests.docx_reader import data_tables
from tests.docx_reader import letterhead
from tests.docx_reader import open_docx
from tests.server.conftest import ingest
from tests.server.conftest import write


@pytest.fixture(scope="module")
def season():
    return generate(9, interviews=800, rounds=(2017, 2018))


def test_report_files_and_reindex(app, runner, store, season, tmp_path):
    ingest(store, season.interviews)
    for activity in season.activities:
        write(store, activity.sub_id, activity.answers, form_id=activity.form_id, version=activity.version)

    md = tmp_path / "yearly.md"
    result = runner.invoke(args=["report", "yearly", "--round", "2018", "--out", str(md), "--language", "en"])
    assert result.exit_code == 0, result.output
    assert "2018" in md.read_text(encoding="utf-8")

    csv = tmp_path / "priorities.csv"
    result = runner.invoke(args=["report", "priorities", "--round", "2018", "--level", "district",
                                 "--out", str(csv)])
    assert result.exit_code == 0, result.output
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    table = pd.read_csv(csv)
    assert len(table) == 9 and {"tier", "reasons"} <= set(table.columns)

    communes = tmp_path / "communes.csv"
    result = runner.invoke(args=["report", "small-areas", "--round", "2018", "--indicator", "hotline_aware",
                                 "--out", str(communes), "--min-cell", "1"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(communes)
    assert len(table) == 85 and set(table["source"]) == {"small-area", "model"}
    assert table["estimate"].notna().all()
    result = runner.invoke(args=["report", "small-areas", "--round", "2018", "--indicator", "income",
                                 "--out", str(communes)])
    assert result.exit_code != 0 and "income" in result.output

    xlsx = tmp_path / "indicators.xlsx"
    result = runner.invoke(args=["report", "indicators", "--round", "2017", "--out", str(xlsx)])
    assert result.exit_code == 0, result.output
    book = load_workbook(xlsx, read_only=True)
    try:
        assert sum(1 for _ in book["indicators"].iter_rows()) == 1 + 3 * 10
    finally:
        book.close()

    with app.app_context():
        db.session.execute(sa.delete(Respondent))
        db.session.commit()
    result = runner.invoke(args=["report", "reindex"])
    assert result.exit_code == 0, result.output
    assert f"Indexed {len(season.interviews)}" in result.output


def test_report_user_errors(runner, store, tmp_path):
    result = runner.invoke(args=["report", "indicators", "--round", "2018", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and ".csv" in result.output
    result = runner.invoke(args=["report", "indicators", "--round", "1999", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "survey rounds" in result.output


def test_gap_report_files(runner, store, season, tmp_path):
    ingest(store, season.interviews)
    for activity in season.activities:
        write(store, activity.sub_id, activity.answers, form_id=activity.form_id, version=activity.version)

    html = tmp_path / "report.html"
    result = runner.invoke(args=["report", "html", "--round", "2018", "--out", str(html), "--language",
                                 "en"])
    assert result.exit_code == 0, result.output
    text = html.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 5 and "2018" in text

    xlsx = tmp_path / "tables.xlsx"
    result = runner.invoke(args=["report", "tables", "--round", "2018", "--out", str(xlsx), "--min-cell",
                                 "1", "--codes"])
    assert result.exit_code == 0, result.output
    book = load_workbook(xlsx, read_only=True)
    try:
        assert {"levels", "groups", "change", "priorities", "channels"} <= set(book.sheetnames)
        assert next(book["levels"].iter_rows(values_only=True))[0] == "Vòng"  # Vietnamese headers by default
    finally:
        book.close()
    shown = tmp_path / "shown.xlsx"
    result = runner.invoke(args=["report", "tables", "--round", "2018", "--out", str(shown), "--min-cell",
                                 "1"])
    assert result.exit_code == 0, result.output
    book = load_workbook(shown, read_only=True)
    try:  # the page's table: district names, rounded figures in Vietnamese format, no codes
        header, first = list(book["levels"].iter_rows(values_only=True))[:2]
        assert header[:2] == ("Quận/huyện", "Vòng khảo sát") and first[0] == "Ninh Kiều"
        assert all(isinstance(v, str) for v in first) and "%" in first[2]
    finally:
        book.close()

    document = tmp_path / "bao-cao.docx"
    result = runner.invoke(args=["report", "full", "--round", "2018", "--format", "docx", "-o", str(document),
                                 "--date", "2026-11-12", "--number", "15"])
    assert result.exit_code == 0, result.output
    written = open_docx(document.read_bytes())
    left, right = letterhead(written)
    assert left[-1] == "Số: 15/BC-STTTT" and right[-1] == "Cần Thơ, ngày 12 tháng 11 năm 2026"
    assert data_tables(written)[0]["rows"][0][0] == "Ninh Kiều"
    yearly = tmp_path / "yearly.docx"
    result = runner.invoke(args=["report", "yearly", "--round", "2018", "--format", "docx", "-o", str(yearly),
                                 "--language", "en", "--date", "2026-11-12"])
    assert result.exit_code == 0, result.output
    written = open_docx(yearly.read_bytes())
    assert letterhead(written)[1][0] == "SOCIALIST REPUBLIC OF VIET NAM"
    assert data_tables(written)[0]["header"][0] == "District"
    result = runner.invoke(args=["report", "yearly", "--round", "2018", "--format", "docx", "-o",
                                 str(tmp_path / "x.md")])
    assert result.exit_code == 1 and ".docx" in result.output
    result = runner.invoke(args=["report", "full", "--round", "2018", "-o", str(document), "--date", "12.11"])
    assert result.exit_code == 1 and "YYYY-MM-DD" in result.output
    archive = tmp_path / "tables.zip"
    result = runner.invoke(args=["report", "tables", "--round", "2018", "--out", str(archive)])
    assert result.exit_code == 0, result.output
    assert "channels.csv" in zipfile.ZipFile(archive).namelist()

    result = runner.invoke(args=["report", "html", "--round", "2018", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and ".html" in result.output
    result = runner.invoke(args=["report", "tables", "--round", "1999", "--out", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1 and "survey rounds" in result.output
