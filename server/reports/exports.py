"""Respondent-level exports for analysts: CSV streamed in chunks, XLSX written in write-only mode.

De-identified by construction: the rows come from the ``respondents`` table, which never holds
device ids, free-text answers or interview start/end times; the default export also drops the
submission ids (they link back to the raw documents and the device). Rows are never truncated.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator

import pandas as pd

from analysis.report_tables import write_workbook
from forms.values import formula_safe
from server.models.errors import ServerError

LABELS = ("codes", "vi", "en")
#: What an export leaves out, as the response's ``Ferry-Removed`` header says.
REMOVED = ("device_id", "free_text", "interview_times", "submission_id")
REMOVED_IDENTIFIED = ("device_id", "free_text", "interview_times")
_CHUNK = 5000


def _language_key(form, language: str) -> str | None:
    for name in form.languages:
        if name == language or name.endswith(f"({language})"):
            return name
    return None


def labelled(frame: pd.DataFrame, form, labels: str, *, identified: bool = False) -> pd.DataFrame:
    """The export table: codes replaced by choice labels in ``labels`` (unless ``codes``)."""
    if labels not in LABELS:
        raise ServerError("validation-failed", f"labels must be one of {', '.join(LABELS)}.",
                       errors=[{"pointer": "/labels", "detail": f"unknown: {labels}"}])
    out = frame if identified else frame.drop(columns=["submission_id"], errors="ignore")
    if labels == "codes":
        return out
    key = _language_key(form, labels)
    out = out.copy()
    for column in out.columns:
        try:
            question = form.question(column)
        except KeyError:
            continue
        if question.type != "select_one" or not question.choices:
            continue
        names = {c.name: (c.label.get(key) if key else None) or c.name
                 for c in form.choices.get(question.choices, [])}
        out[column] = out[column].map(lambda v, names=names: names.get(v, v) if isinstance(v, str) else v)
    return out


def csv_chunks(table: pd.DataFrame) -> Iterator[str]:
    """CSV text of ``table`` (a byte-order mark and the header first), a few thousand rows at a time.

    The mark lets Excel on Windows read the file as UTF-8, so Vietnamese labels are not garbled; cells a
    spreadsheet would run as formulas are written as text.
    """
    yield csv_header(table.columns)
    for start in range(0, len(table), _CHUNK):
        part = table.iloc[start:start + _CHUNK].astype("object").map(formula_safe)
        yield part.to_csv(index=False, header=False, lineterminator="\n")


def csv_header(columns) -> str:
    """A CSV file's first text: the byte-order mark and the header line, formula-safe."""
    return "\ufeff" + csv_lines([[str(c) for c in columns]])


def csv_lines(rows) -> str:
    """CSV text of rows of values, each cell formula-safe (None is an empty cell)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([formula_safe(v) for v in row] for row in rows)
    return buffer.getvalue()


def xlsx_file(table: pd.DataFrame, *, sheet: str = "respondents") -> str:
    """Write ``table`` to a temporary .xlsx (openpyxl write-only mode); return its path."""
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="ferry-export-")
    os.close(handle)
    write_workbook({sheet: table}, path)
    return path


def file_chunks(path: str, size: int = 1 << 16) -> Iterator[bytes]:
    """The bytes of ``path`` in chunks; the file is removed once read (or the stream is closed)."""
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(size):
                yield chunk
    finally:
        os.unlink(path)
