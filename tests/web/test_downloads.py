"""Downloads that match the page: the CSV and XLSX of a table hold the page's cells, in its language."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import openpyxl
import pytest


class _Tables(HTMLParser):
    """Each table of a page: its caption and its body rows as the cells' visible text."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell, self._row, self._in = [], None, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption":
            self._in = "caption"
        elif tag == "tbody":
            self._in = "tbody"
        elif tag == "tr" and self._in == "tbody":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1]["rows"].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._in == "caption":
            self.tables[-1]["caption"] += data


def page_tables(html: str) -> list[dict]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def download(client, path: str) -> list[list[str]]:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.data.startswith(b"\xef\xbb\xbf"), path
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    # a cell a spreadsheet would run as a formula ("-1 [-14; +11]") is guarded by a leading apostrophe
    # (tests/security/test_formula_injection.py); under the guard it is the page's cell
    return [[c[1:] if c[:1] == "'" and c[1:2] in ("=", "+", "-", "@") else c for c in row] for row in rows]


def stacked(tables: list[dict]) -> list[list[str]]:
    """Rows of several tables with their caption first (as a download stacks them)."""
    return [[" ".join(table["caption"].split()), *row] for table in tables for row in table["rows"]]


@pytest.mark.parametrize("role,lang", [("planner", "vi"), ("planner", "en"), ("analyst", "en")])
def test_each_download_equals_the_table_on_the_page_cell_for_cell(as_role, role, lang):
    client = as_role(role)

    def both(page, query=""):
        html = client.get(f"/reports/{page}?lang={lang}{query}").get_data(as_text=True)
        return page_tables(html), lambda part="": download(
            client, f"/reports/{page.split('?')[0] or 'overview'}.csv?lang={lang}{query}{part}")

    tables, csv_of = both("", "&round=2018")
    header, *rows = csv_of()
    assert rows == tables[0]["rows"] and len(header) == len(rows[0])

    tables, csv_of = both("districts")
    header, *rows = csv_of()
    assert rows == stacked(tables)
    assert header[2].endswith("2018: " + ("Ước lượng [KTC 95%]" if lang == "vi" else "Estimate [95% CI]"))

    for page in ("groups", "channels"):
        tables, csv_of = both(page, "&round=2018")
        assert csv_of()[1:] == tables[0]["rows"], page

    tables, csv_of = both("change", "&from=2017&to=2018")
    assert csv_of()[1:] == stacked(tables)

    tables, csv_of = both("yearly", "&round=2018")
    outreach = (tables[0]["caption"], tables[1]["caption"])
    awareness = [t for t in tables if t["caption"] not in outreach]
    assert csv_of("&part=awareness")[1:] == stacked(awareness)
    assert csv_of("&part=outreach_totals")[1:] == tables[0]["rows"]

    for level in ("commune", "district"):
        tables, csv_of = both("priorities", f"&round=2018&level={level}")
        header, *rows = csv_of()
        on_page = [row for table in tables for row in table["rows"]]
        assert len(rows) == len(on_page) > 0
        for got, shown in zip(rows, on_page, strict=True):
            place = got[1:3] if level == "commune" else got[1:2]
            assert shown[0].startswith(" ".join(place)), (got, shown)  # the place, its district under it
            assert got[len(place) + 1:] == shown[1:]
    # the language of the page: its words, Vietnamese number formats and no codes
    text = "\n".join(",".join(r) for r in rows)
    if lang == "vi":
        assert "Khả năng thuộc 10 nơi cần nhất" not in header  # district level: the top 3
        assert any(h.startswith("Khả năng thuộc") for h in header) and "highest" not in text
        assert "Cao nhất" in text
    else:
        assert any(h.startswith("Chance of being among") for h in header) and "Highest" in text


def test_codes_are_the_other_choice_and_xlsx_holds_the_same_cells(as_role):
    client = as_role("planner")
    codes = download(client, "/reports/priorities.csv?round=2018&codes=1&lang=vi")
    assert {"district_code", "tier", "p_top_k", "suppressed"} <= set(codes[0])
    shown = download(client, "/reports/priorities.csv?round=2018&lang=vi")
    response = client.get("/reports/priorities.xlsx?round=2018&lang=vi")
    assert "filename=ferry-priorities-2018-commune-vi.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    try:
        sheet = [["" if v is None else str(v) for v in row]
                 for row in book["priorities"].iter_rows(values_only=True)]
    finally:
        book.close()
    assert sheet == shown
    html = client.get("/reports/priorities?lang=vi").get_data(as_text=True)
    assert re.search(r'href="/reports/priorities\.csv\?[^"]*codes=1', html)
