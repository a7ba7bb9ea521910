"""A raw export reads the submissions a page at a time and sends each page before reading the next,
so its memory is bounded by a page, not by the form (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import csv
import io
import math
import tempfile
import uuid

import openpyxl
from sqlalchemy import event
from sqlalchemy import select

from server.console.records import EXPORT_PAGE
from server.extensions import db
from server.models import AuditEntry
from sync.protocol import PROTOCOL

#: Enough submissions for several pages.
COUNT = 3 * EXPORT_PAGE + 7
PUSH = 100  # ops per push: well under the push's byte limit with these interviews


def _push_many(console, enumerator: str, interviews: list[dict], count: int) -> None:
    device_id, headers = console.phones[enumerator]
    for start in range(0, count, PUSH):
        ops = [{"id": str(uuid.uuid4()), "kind": "create", "sub": str(uuid.uuid4()), "form": "awareness",
                "ver": "2017.1", "ans": interviews[i % len(interviews)], "at": "2017-06-01T08:00:00+07:00"}
               for i in range(start, min(start + PUSH, count))]
        response = console.client.post("/api/v1/sync/push", headers=headers,
                                        json={"protocol": PROTOCOL, "device_id": device_id, "ops": ops})
        assert response.status_code == 200, response.get_json()
        assert {r["status"] for r in response.get_json()["results"]} == {"created"}


def _page_reads(statements: list[str]) -> list[str]:
    """The statements that read a page of an export's submissions (keyset order, with a LIMIT)."""
    return [s for s in statements
            if "FROM submissions" in s and "ORDER BY submission_places.received_at" in s]


def test_a_large_export_is_read_in_pages_and_sent_as_it_is_read(console, app, tmp_path, monkeypatch):
    _push_many(console, "enum-a", console.interviews[console.district_a], COUNT)
    _push_many(console, "enum-b", console.interviews[console.district_b], 3)  # another district's
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    client = console.browser("coord-a")
    event.listen(engine, "before_cursor_execute", keep)
    try:
        response = client.get("/console/exports/awareness.csv", buffered=False)
        assert response.status_code == 200
        chunks = iter(response.response)
        # the header is sent before any submission is read, the first page before the second is read
        header = next(chunks)
        assert header.startswith("\ufeff_id,".encode()) and _page_reads(statements) == []
        first = next(chunks)
        assert len(_page_reads(statements)) == 1 and first.count(b"\n") == EXPORT_PAGE
        rest = b"".join(chunks)
        response.close()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    reads = _page_reads(statements)
    assert len(reads) == math.ceil(COUNT / EXPORT_PAGE) and all("LIMIT" in s for s in reads), reads
    # the coordinator's district rule is in every page's SQL
    assert all("submission_places.district IN" in s for s in reads)
    rows = list(csv.DictReader(io.StringIO((header + first + rest).decode("utf-8-sig"))))
    assert len(rows) == COUNT and len({r["_id"] for r in rows}) == COUNT
    assert {r["_enumerator"] for r in rows} == {"enum-a"}
    with app.app_context():
        logged = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export.raw")).all()
        assert [e.details["rows"] for e in logged] == [COUNT]

    # XLSX: every row in its sheet; a download cut short still leaves no temporary workbook behind
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    workbook = client.get("/console/exports/awareness.xlsx").data
    book = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True)
    sheet = list(book["submissions"].iter_rows(values_only=True))
    assert sheet[0][0] == "_id" and {row[0] for row in sheet[1:]} == {r["_id"] for r in rows}
    cut = client.get("/console/exports/awareness.xlsx", buffered=False)
    assert next(iter(cut.response)).startswith(b"PK")
    assert list(tmp_path.glob("ferry-raw-*"))
    cut.close()
    assert not list(tmp_path.glob("ferry-raw-*"))
