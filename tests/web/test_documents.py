"""The reports as Word documents: read back with python-docx, they hold the page's tables cell for cell."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import openpyxl
import pytest

from tests.docx_reader import data_tables
from tests.docx_reader import letterhead
from tests.docx_reader import open_docx
from tests.docx_reader import texts
from tests.web.test_downloads import page_tables

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MOTTO = {"vi": ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"],
         "en": ["SOCIALIST REPUBLIC OF VIET NAM", "Independence - Freedom - Happiness"]}
DATED = {"vi": "Cần Thơ, ngày 12 tháng 11 năm 2026", "en": "Cần Thơ, 12 November 2026"}


def _document(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == DOCX and ".docx" in response.headers["Content-Disposition"]
    return open_docx(response.data)


def _assert_letterhead(document, lang):
    left, right = letterhead(document)
    assert right[:2] == MOTTO[lang] and right[-1] == DATED[lang]
    assert left[1] == ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG" if lang == "vi" else
                       "DEPARTMENT OF INFORMATION AND COMMUNICATIONS")
    assert re.fullmatch(r"(Số|No\.): \s*/BC-STTTT", left[-1].replace("\xa0", " ")), left[-1]
    body = texts(document)
    assert ("BÁO CÁO" if lang == "vi" else "REPORT") in body
    style = document.styles["Normal"].font
    assert style.name == "Times New Roman" and style.size.pt == 14


@pytest.mark.parametrize("role,lang", [("planner", "vi"), ("planner", "en"), ("analyst", "vi")])
def test_yearly_docx_holds_the_yearly_pages_tables(as_role, role, lang):
    client = as_role(role)
    html = client.get(f"/reports/yearly?round=2018&lang={lang}").get_data(as_text=True)
    assert "/reports/yearly.docx?round=2018" in html  # the link beside the page's downloads
    document = _document(client, f"/reports/yearly.docx?round=2018&lang={lang}&date=2026-11-12")
    _assert_letterhead(document, lang)
    on_page, in_document = page_tables(html), data_tables(document)
    assert len(in_document) == len(on_page) >= 5  # outreach, types, three indicators
    for shown, written in zip(on_page, in_document, strict=True):
        assert written["caption"] == " ".join(shown["caption"].split())
        assert written["rows"] == shown["rows"]
    cells = "\n".join(c for t in in_document for row in t["rows"] for c in row)
    if lang == "vi":  # Vietnamese number format: 1.809 and 48–56%, never 1,809
        assert re.search(r"\d\.\d{3}", cells) and not re.search(r"\d,\d{3}", cells)
    else:
        assert re.search(r"\d,\d{3}", cells) and not re.search(r"\d\.\d{3}", cells)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_full_report_docx_and_spreadsheets_hold_the_full_pages_tables(as_role, lang):
    client = as_role("planner")
    overview = client.get(f"/reports/?lang={lang}").get_data(as_text=True)
    assert 'href="/reports/full.docx' in overview and "codes=1" in overview
    html = client.get(f"/reports/full?round=2018&lang={lang}").get_data(as_text=True)
    on_page = page_tables(html)
    document = _document(client, f"/reports/full.docx?round=2018&lang={lang}&date=2026-11-12")
    _assert_letterhead(document, lang)
    in_document = data_tables(document)
    assert len(in_document) == len(on_page) >= 10
    for shown, written in zip(on_page, in_document, strict=True):
        assert written["caption"] == " ".join(shown["caption"].split())
        assert written["rows"] == shown["rows"], written["caption"]

    # the spreadsheets: one sheet (or CSV file) per table of the page, its cells as shown
    response = client.get(f"/reports/full/tables.xlsx?round=2018&lang={lang}")
    assert f"ferry-gap-report-2018-{lang}.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    try:
        sheets = [name for name in book.sheetnames if name != "about"]
        assert len(sheets) == len(on_page)
        for name, shown in zip(sheets, on_page, strict=True):
            rows = [["" if v is None else str(v) for v in row]
                    for row in book[name].iter_rows(values_only=True)]
            assert rows[1:] == shown["rows"], name
    finally:
        book.close()
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/reports/full/tables.zip?round=2018&lang={lang}").data))
    levels = list(csv.reader(io.StringIO(archive.read("levels.csv").decode("utf-8-sig"))))
    assert levels[1:] == on_page[0]["rows"]
    assert "district_code" not in levels[0] and "Mã quận/huyện" not in levels[0]  # codes are the other choice
    if lang == "en":
        return
    codes = client.get(f"/reports/full/tables.xlsx?round=2018&lang={lang}&codes=1")
    assert "ferry-gap-report-2018-codes.xlsx" in codes.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(codes.data), read_only=True)
    try:
        assert "Mã quận/huyện" in next(book["levels"].iter_rows(values_only=True))
    finally:
        book.close()


def test_a_bad_date_or_page_is_a_problem_not_a_document(as_role):
    client = as_role("analyst")
    response = client.get("/reports/yearly.docx?round=2018&date=12/11/2026")
    assert response.status_code == 422 and "date" in response.get_data(as_text=True)
    assert client.get("/reports/priorities.docx?round=2018").status_code == 404
