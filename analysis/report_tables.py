"""The gap report's tables for spreadsheets: XLSX (one sheet per table) or a zip of CSV files.

By default each table is the one the report's page shows (:func:`shown_tables`): the same columns, labels,
rounding, number format and language, cell for cell, from the same blocks
(:func:`analysis.report_html.report_blocks`). The analysts' choice (``codes=True``) is the tidy tables
behind them: codes with their labels beside them (so tables can be joined), full-precision figures, headers
in the chosen language, withheld figures as empty cells (never 0). The XLSX is written in openpyxl's
write-only mode (rows streamed to the file) by :func:`write_workbook`, which the server's downloads and
exports use too, so memory does not grow with the sheet.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd

from analysis import labels
from analysis.gap_report import GapReport
from analysis.report_blocks import tables as block_tables
from analysis.report_html import report_blocks
from analysis.report_text import COLUMNS
from analysis.report_text import TEXT
from analysis.report_text import note
from forms.values import formula_safe
from forms.values import text_cells

__all__ = ["labelled_tables", "shown_tables", "write_workbook", "write_xlsx", "write_csv_zip"]

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


def _shown(report, lang):
    blocks = block_tables(report_blocks(report, language=lang, figures=False))
    tables = {t.name: pd.DataFrame(list(t.rows), columns=list(t.header), dtype="object") for t in blocks}
    return tables, {t.name: t.caption for t in blocks}


def shown_tables(report: GapReport, *, language="vi") -> dict[str, pd.DataFrame]:
    """Every table as the report's page shows it (text cells: its labels, rounding and number format)."""
    return _shown(report, labels.check_language(language))[0]


def _about(report, lang, captions=None):
    index = 0 if lang == "vi" else 1
    rows = [[TEXT["title"][index].format(year=report.year)], [TEXT["round"][index], report.year]]
    if report.previous is not None:
        rows.append([TEXT["compared_with"][index], report.previous])
    rows.append([TEXT["method_suppression"][index].format(min_n=report.min_n)])
    rows += [[note(entry, lang)] for entry in report.notes]
    rows += [[name, caption] for name, caption in (captions or {}).items()]  # what each sheet is
    return rows


def _tables(report, lang, codes):
    """The tables to write and the rows of the ``about`` sheet."""
    if codes:
        return labelled_tables(report, language=lang), _about(report, lang)
    tables, captions = _shown(report, lang)
    return tables, _about(report, lang, captions)


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


def write_xlsx(report: GapReport, file, *, language="vi", codes=False) -> None:
    """Write the tables to ``file`` (a path or binary file object) as an .xlsx workbook: as the page shows
    them, or with ``codes`` the tidy tables (codes and full-precision figures)."""
    lang = labels.check_language(language)
    tables, about = _tables(report, lang, codes)
    write_workbook(tables, file, about=about)


def write_csv_zip(report: GapReport, file, *, language="vi", codes=False) -> None:
    """Write the tables to ``file`` (a path or binary file object) as a zip of UTF-8 CSV files (with BOM),
    as the page shows them or with ``codes`` the tidy tables."""
    lang = labels.check_language(language)
    tables, about = _tables(report, lang, codes)
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows([[formula_safe(v) for v in row] for row in about])
        archive.writestr("about.csv", _BOM + text.getvalue())
        for name, table in tables.items():
            shown = table.astype("object").map(lambda v: formula_safe(_cell(v))) if len(table) else table
            shown = shown.rename(columns=lambda c: formula_safe(str(c)))
            archive.writestr(f"{name}.csv", _BOM + shown.to_csv(index=False, lineterminator="\n"))
