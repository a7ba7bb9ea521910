"""Raw exports of any form's submissions (imported forms and the outreach log included): CSV in UTF-8
with a BOM, so Excel reads Vietnamese, and XLSX; repeat groups as linked tables (``_parent`` names the
row they belong to); choice codes or labels. Free text and attachments are left out unless an admin
asks for them. The tables are written with the project's one workbook writer and CSV chunker
(``server.reports.exports``), and the response streams the file.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Iterator

import pandas as pd

from server.console.records import Record
from server.reports import exports as writers

LABELS = ("codes", "vi", "en")
#: Question types whose answers a coordinator's export leaves out: what people typed, and files.
FREE_TEXT = frozenset({"text"})
FILES = frozenset({"image", "audio", "video", "file", "background-audio", "signature"})
SKIPPED = frozenset({"note", "group", "repeat"})
MAIN = "submissions"


def language_key(form, language: str) -> str | None:
    """The form's label language for ``vi``/``en`` (``Vietnamese (vi)`` or ``vi``), or None."""
    for name in form.languages:
        if name == language or name.endswith(f"({language})"):
            return name
    return None


def label_of(item, form, language: str) -> str:
    """A question's or choice's label in ``language``, else its default label, else its name."""
    key = language_key(form, language)
    label = item.label or {}
    return (key and label.get(key)) or label.get(form.default_language) or next(iter(label.values()), "") \
        or item.name


def _columns(questions, form, *, include_private: bool):
    """(question, nested path) of each exported answer of these questions, repeats apart."""
    for question in questions:
        if question.type == "group":
            yield from _columns(question.children, form, include_private=include_private)
        elif question.type in SKIPPED:
            continue
        elif not include_private and (question.type in FREE_TEXT or question.type in FILES):
            continue
        else:
            yield question


def _repeats(questions):
    for question in questions:
        if question.type == "repeat":
            yield question
            yield from _repeats(question.children)
        elif question.type == "group":
            yield from _repeats(question.children)


def _cell(question, value, form, labels: str):
    if value is None or labels == "codes" or not question.choices:
        return " ".join(map(str, value)) if isinstance(value, list) else value
    names = {c.name: label_of(c, form, labels) for c in form.choices.get(question.choices, [])}
    if isinstance(value, list):
        return " ".join(names.get(v, v) for v in value)
    return names.get(value, value)


def _flat(answers: dict) -> dict:
    """Answers by question name, groups flattened, repeats kept as lists."""
    out = {}
    for name, value in (answers or {}).items():
        if isinstance(value, dict):
            out.update(_flat(value))
        else:
            out[name] = value
    return out


def tables(form, records: list[Record], *, labels: str = "codes", include_private: bool = False,
           ) -> dict[str, pd.DataFrame]:
    """The export's tables: one row per submission, and one table per repeat group."""
    main_questions = list(_columns(form.questions, form, include_private=include_private))
    head = ["_id", "_version", "_received", "_enumerator", "_state"]
    rows = []
    repeats = list(_repeats(form.questions))
    repeat_rows: dict[str, list] = {r.name: [] for r in repeats}
    repeat_columns = {r.name: list(_columns(r.children, form, include_private=include_private))
                      for r in repeats}
    for record in records:
        flat = _flat(record.answers)
        rows.append([record.id, record.form_version, record.received_at.isoformat(), record.enumerator,
                     record.state] + [_cell(q, flat.get(q.name), form, labels) for q in main_questions])
        _repeat_rows(record.id, flat, repeats, repeat_columns, repeat_rows, form, labels)
    header = [label_of(q, form, labels) if labels != "codes" else q.name for q in main_questions]
    out = {MAIN: pd.DataFrame(rows, columns=head + header)}
    for repeat in repeats:
        names = [label_of(q, form, labels) if labels != "codes" else q.name
                 for q in repeat_columns[repeat.name]]
        out[repeat.name] = pd.DataFrame(repeat_rows[repeat.name], columns=["_parent", "_index", *names])
    return out


def _repeat_rows(parent: str, flat: dict, repeats, columns, out, form, labels) -> None:
    for repeat in repeats:
        entries = flat.get(repeat.name)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict):
                continue
            inner = _flat(entry)
            key = f"{parent}/{repeat.name}[{index}]"
            out[repeat.name].append([parent, index] + [_cell(q, inner.get(q.name), form, labels)
                                                       for q in columns[repeat.name]])
            # nested repeats name this entry as their parent
            _repeat_rows(key, inner, [r for r in repeats if r.name in inner and r is not repeat],
                         columns, out, form, labels)


def csv_bytes(table: pd.DataFrame) -> Iterator[bytes]:
    """A table as CSV in UTF-8 with a byte-order mark (Excel then reads Vietnamese), in chunks."""
    for chunk in writers.csv_chunks(table):
        yield chunk.encode("utf-8")


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they come (zipfile writes it unseekably)."""

    def __init__(self):
        self.parts: list[bytes] = []

    def writable(self):
        return True

    def write(self, data):
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def csv_zip(tables_: dict[str, pd.DataFrame], stem: str) -> Iterator[bytes]:
    """Every table as its own CSV file in one zip, written and sent a piece at a time."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, table in tables_.items():
            with archive.open(f"{stem}-{name}.csv", "w") as member:
                for chunk in csv_bytes(table):
                    member.write(chunk)
                    yield sink.take()
    yield sink.take()


def xlsx_chunks(tables_: dict[str, pd.DataFrame]) -> Iterator[bytes]:
    """Every table as a sheet of one workbook (write-only mode, to a temporary file), in chunks."""
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="ferry-raw-")
    os.close(handle)
    try:
        writers.write_workbook({name[:31]: table for name, table in tables_.items()}, path)
    except BaseException:
        os.unlink(path)
        raise
    return writers.file_chunks(path)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export(session, scope, form_id: str, fmt: str, *, labels: str = "codes", include_private: bool = False,
           actor=None) -> tuple[Iterator[bytes], str, str]:
    """A form's submissions in the scope, every version, as (chunks, media type, file name); audited.

    CSV is one file, or a zip of one file per table when the form has repeat groups.
    """
    from server.console.forms import version_rows
    from server.console.records import records
    from server.forms import registry
    from server.models import audit
    from server.models.errors import ServerError

    if fmt not in ("csv", "xlsx"):
        raise ServerError("not-found", "Formats: csv and xlsx.")
    if labels not in LABELS:
        raise ServerError("validation-failed", f"labels must be one of {', '.join(LABELS)}.",
                          errors=[{"pointer": "/labels", "detail": f"unknown: {labels}"}])
    if include_private and not scope.is_admin:
        raise ServerError("forbidden", "Only administrators may export free text and attachments.")
    versions = [r for r in version_rows(session) if r.form_id == form_id]
    if not versions:
        raise ServerError("not-found", f"No form {form_id!r}.")
    # the newest version's questions and labels; answers of older versions fill the columns they share
    form = registry.load_form(registry.get_version(session, form_id, versions[0].version))
    rows = records(session, scope, form_id=form_id)
    found = tables(form, rows, labels=labels, include_private=include_private)
    audit(session, "export.raw", "form", form_id, user_id=actor.id if actor else None, cli=actor is None,
          format=fmt, labels=labels, private=include_private, rows=len(rows))
    stem = f"{form_id}-{labels}"
    if fmt == "xlsx":
        return xlsx_chunks(found), XLSX, f"{stem}.xlsx"
    if len(found) == 1:
        return csv_bytes(found[MAIN]), "text/csv; charset=utf-8", f"{stem}.csv"
    return csv_zip(found, stem), "application/zip", f"{stem}-csv.zip"
