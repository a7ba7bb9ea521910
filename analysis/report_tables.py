"""The gap report's tables for spreadsheets: XLSX (one sheet per table) or a zip of CSV files.

Headers and code labels are in the chosen language; codes stay beside their labels so tables can be
joined. Withheld figures are empty cells, never 0. The XLSX is written in openpyxl's write-only mode
(rows streamed to the file) by :func:`write_workbook`, which the server's downloads and exports use too, so
memory does not grow with the sheet.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd

from analysis import labels
from analysis.gap_report import GapReport
from analysis.report_text import COLUMNS
from analysis.report_text import TEXT
from analysis.report_text import note
from forms.values import formula_safe
from forms.values import text_cells

__all__ = ["labelled_tables", "write_workbook", "write_xlsx", "write_csv_zip"]

#: UTF-8 byte-order mark: Excel on Windows reads a CSV that starts with it as UTF-8 (Vietnamese intact).
_BOM = "\ufeff"

_LABELLED = {"indicator": ("indicator_label", labels.indicator), "group": ("group_label", labels.group),
             "channel": ("channel_label", labels.channel),
             "activity_type": ("activity_label", labels.activity_type), "tier": ("tier_label", labels.tier)}


def labelled_tables(report: GapReport, *, language="vi") -> dict[str, pd.DataFrame]:
    """Every table with label columns beside its codes and headers in ``language``."""
    lang = labels.check_language(language)
    out = {}
    for name, table in report.tables().items():
        table = table.copy()
        for code, (label, function) in _LABELLED.items():
            if code in table.columns and len(table):
                table.insert(table.columns.get_loc(code) + 1, label,
                             [function(v, lang) if isinstance(v, str) else v for v in table[code]])
        if "reasons_vi" in table.columns:  # one reasons column, in the table's language
            if lang == "vi":
                table["reasons"] = table["reasons_vi"]
            table = table.drop(columns="reasons_vi")
        index = 0 if lang == "vi" else 1
        out[name] = table.rename(columns={c: COLUMNS[c][index] for c in table.columns if c in COLUMNS})
    return out


def _about(report, lang):
    index = 0 if lang == "vi" else 1
    rows = [[TEXT["title"][index].format(year=report.year)], [TEXT["round"][index], report.year]]
    if report.previous is not None:
        rows.append([TEXT["compared_with"][index], report.previous])
    rows.append([TEXT["method_suppression"][index].format(min_n=report.min_n)])
    rows += [[note(entry, lang)] for entry in report.notes]
    return rows


def _cell(value):
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def write_workbook(tables: dict[str, pd.DataFrame], file, *, about=None) -> None:
    """Write named tables to ``file`` (a path or binary file), one sheet each, in openpyxl's write-only mode.

    ``about``: rows of a first sheet named ``about`` (what the tables are), if given.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    if about is not None:
        sheet = book.create_sheet("about")
        for row in about:
            sheet.append(text_cells(sheet, list(row)))
    for name, table in tables.items():
        sheet = book.create_sheet(name[:31])  # Excel's limit on sheet names
        sheet.append(text_cells(sheet, [str(c) for c in table.columns]))
        for row in table.astype("object").itertuples(index=False, name=None):
            append_row(sheet, row)
    book.save(file)


def append_row(sheet, values) -> None:
    """Append one row of values to a write-only sheet, as ``write_workbook`` writes its cells."""
    sheet.append(text_cells(sheet, [_cell(v) for v in values]))


def write_xlsx(report: GapReport, file, *, language="vi") -> None:
    """Write the tables to ``file`` (a path or binary file object) as an .xlsx workbook."""
    lang = labels.check_language(language)
    write_workbook(labelled_tables(report, language=lang), file, about=_about(report, lang))


def write_csv_zip(report: GapReport, file, *, language="vi") -> None:
    """Write the tables to ``file`` (a path or binary file object) as a zip of UTF-8 CSV files (with BOM)."""
    lang = labels.check_language(language)
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        text = io.StringIO()
        about = [[formula_safe(v) for v in row] for row in _about(report, lang)]
        csv.writer(text, lineterminator="\n").writerows(about)
        archive.writestr("about.csv", _BOM + text.getvalue())
        for name, table in labelled_tables(report, language=lang).items():
            shown = table.astype("object").map(lambda v: formula_safe(_cell(v))) if len(table) else table
            shown = shown.rename(columns=lambda c: formula_safe(str(c)))
            archive.writestr(f"{name}.csv", _BOM + shown.to_csv(index=False, lineterminator="\n"))
