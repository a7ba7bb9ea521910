"""Raw exports of any form's submissions (imported forms and the outreach log included): CSV in UTF-8
with a BOM, so Excel reads Vietnamese, and XLSX; repeat groups as linked tables (``_parent`` names the
row they belong to); choice codes or labels. Free text and attachments are left out unless an admin
asks for them. Streamed with bounded memory: the submissions are read a page at a time
(``server.console.records.pages_of_form``, the scope's SQL) and each page's rows written out before the
next is read, as CSV lines (``server.reports.exports``' formula-safe writer) or rows of openpyxl's
write-only sheets (``analysis.report_tables.append_row``).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import zipfile
from collections.abc import Callable
from collections.abc import Iterator

from analysis.report_tables import append_row
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


class Shape:
    """The export's tables of one form: their columns, and the rows a page of submissions gives each."""

    def __init__(self, form, *, labels: str = "codes", include_private: bool = False):
        self.form, self.labels = form, labels
        self.main = list(_columns(form.questions, form, include_private=include_private))
        self.repeats = list(_repeats(form.questions))
        self.columns = {r.name: list(_columns(r.children, form, include_private=include_private))
                        for r in self.repeats}

    def _names(self, questions) -> list[str]:
        return [label_of(q, self.form, self.labels) if self.labels != "codes" else q.name for q in questions]

    def headers(self) -> dict[str, list[str]]:
        """Each table's header: one row per submission, and one table per repeat group."""
        out = {MAIN: ["_id", "_version", "_received", "_enumerator", "_state", *self._names(self.main)]}
        for repeat in self.repeats:
            out[repeat.name] = ["_parent", "_index", *self._names(self.columns[repeat.name])]
        return out

    def rows(self, records: list[Record], table: str | None = None) -> dict[str, list[list]]:
        """Each table's rows from these submissions (only ``table``'s filled, when one is named: a CSV
        zip reads the submissions once per table)."""
        form, labels = self.form, self.labels
        out: dict[str, list] = {MAIN: []} | {r.name: [] for r in self.repeats}
        for record in records:
            flat = _flat(record.answers)
            if table in (None, MAIN):
                head = [record.id, record.form_version, record.received_at.isoformat(), record.enumerator,
                        record.state]
                out[MAIN].append(head + [_cell(q, flat.get(q.name), form, labels) for q in self.main])
            if table != MAIN:
                _repeat_rows(record.id, flat, self.repeats, self.columns, out, form, labels)
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


#: A fresh pass over the export's submissions, a page (a list of records) at a time.
Pages = Callable[[], Iterator[list[Record]]]


def csv_bytes(shape: Shape, pages: Pages, table: str) -> Iterator[bytes]:
    """One table as CSV in UTF-8 with a byte-order mark (Excel then reads Vietnamese): the header, then
    each page's rows as soon as the page is read."""
    yield writers.csv_header(shape.headers()[table]).encode("utf-8")
    for page in pages():
        yield writers.csv_lines(shape.rows(page, table)[table]).encode("utf-8")


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


def csv_zip(shape: Shape, pages: Pages, stem: str) -> Iterator[bytes]:
    """Every table as its own CSV file in one zip, written and sent a piece at a time; a zip member is
    written whole before the next, so the submissions are read again for each table."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in shape.headers():
            with archive.open(f"{stem}-{name}.csv", "w") as member:
                for chunk in csv_bytes(shape, pages, name):
                    member.write(chunk)
                    yield sink.take()
    yield sink.take()


def xlsx_chunks(shape: Shape, pages: Pages) -> Iterator[bytes]:
    """Every table as a sheet of one workbook, in chunks: openpyxl's write-only sheets take each page's
    rows as it is read (they keep them in files, not memory); the workbook is saved to a temporary file,
    which is removed once sent or when the client goes away (the generator is closed)."""
    from openpyxl import Workbook

    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="ferry-raw-")
    os.close(handle)
    try:
        book = Workbook(write_only=True)
        sheets = {}
        for name, header in shape.headers().items():
            sheets[name] = book.create_sheet(name[:31])  # Excel's limit on sheet names
            append_row(sheets[name], header)
        for page in pages():
            for name, rows in shape.rows(page).items():
                for row in rows:
                    append_row(sheets[name], row)
        book.save(path)
        yield from writers.file_chunks(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export(session, scope, form_id: str, fmt: str, *, labels: str = "codes", include_private: bool = False,
           actor=None) -> tuple[Iterator[bytes], str, str]:
    """A form's submissions in the scope, every version, as (chunks, media type, file name); audited.

    CSV is one file, or a zip of one file per table when the form has repeat groups. Nothing is read
    until the chunks are: the caller streams them inside the request's context
    (``flask.stream_with_context``), since the submissions are read page by page as they are sent.
    """
    from server.console.forms import version_rows
    from server.console.records import count_of_form
    from server.console.records import pages_of_form
    from server.forms import registry
    from server.models import audit_read
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
    shape = Shape(form, labels=labels, include_private=include_private)
    # counted before any row is read, so an export is audited even when the download is cut short
    rows = count_of_form(session, scope, form_id)
    audit_read(session, "export.raw", "form", form_id, user_id=actor.id if actor else None, cli=actor is None,
               format=fmt, labels=labels, private=include_private, rows=rows)

    def pages() -> Iterator[list[Record]]:
        return pages_of_form(session, scope, form_id)

    stem = f"{form_id}-{labels}"
    if fmt == "xlsx":
        return xlsx_chunks(shape, pages), XLSX, f"{stem}.xlsx"
    if not shape.repeats:
        return csv_bytes(shape, pages, MAIN), "text/csv; charset=utf-8", f"{stem}.csv"
    return csv_zip(shape, pages, stem), "application/zip", f"{stem}-csv.zip"
