"""The submissions table and progress are filtered, counted and paged by the database, over
``submission_places`` kept in step with each head (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import copy
import uuid

from sqlalchemy import event
from sqlalchemy import select

from server.extensions import db
from server.models import SubmissionPlace
from sync.protocol import PROTOCOL
from tests.console.test_api import _bearer


def _list(client, headers, **filters) -> dict:
    response = client.get("/api/v1/console/submissions", query_string=filters, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _correct(console, enumerator: str, sub: str, base: str, answers: dict) -> None:
    device_id, headers = console.phones[enumerator]
    op = {"id": str(uuid.uuid4()), "kind": "correct", "sub": sub, "base": base, "form": "awareness",
          "ver": "2017.1", "ans": answers}
    response = console.client.post("/api/v1/sync/push", json={"protocol": PROTOCOL, "device_id": device_id,
                                                               "ops": [op]}, headers=headers)
    assert response.get_json()["results"][0]["status"] == "created", response.get_json()


def test_every_filter_narrows_in_sql_and_pages_count(console, app):
    a, b = console.district_a, console.district_b
    pushed_a = [console.push("enum-a", answers) for answers in console.interviews[a][:3]]
    pushed_b = console.push("enum-b", console.interviews[b][0])
    admin = _bearer(app, "c-admin")
    client = console.client
    assert _list(client, admin)["total"] == 4
    assert _list(client, admin, district=a)["total"] == 3
    assert _list(client, admin, enumerator="enum-b")["submissions"][0]["id"] == pushed_b["sub"]
    assert _list(client, admin, round="2017")["total"] == 4
    assert _list(client, admin, round="2016")["total"] == 0
    assert _list(client, admin, round="soon")["total"] == 0
    assert _list(client, admin, form="outreach")["total"] == 0
    assert _list(client, admin, version="2017.1", state="received")["total"] == 4
    commune = console.interviews[a][0]["profile"]["commune"]
    same_commune = sum(1 for x in console.interviews[a][:3] if x["profile"]["commune"] == commune)
    assert _list(client, admin, commune=commune)["total"] == same_commune
    paged = _list(client, admin, size=3, page=2)
    assert (paged["total"], paged["pages"], len(paged["submissions"])) == (4, 2, 1)
    # newest first: the first push is the last row of the last page
    assert paged["submissions"][0]["id"] == pushed_a[0]["sub"]
    # a correction that moves an interview to another commune moves it in the filters too
    first = pushed_a[0]
    moved = copy.deepcopy(console.interviews[a][0])
    other_commune = console.interviews[a][1]["profile"]["commune"]
    moved["profile"]["commune"] = other_commune
    _correct(console, "enum-a", first["sub"], first["id"], moved)
    corrected = _list(client, admin, state="corrected")
    assert [r["id"] for r in corrected["submissions"]] == [first["sub"]]
    assert corrected["submissions"][0]["commune"] == other_commune
    with app.app_context():
        row = db.session.get(SubmissionPlace, first["sub"])
        assert row.commune == other_commune and row.district == a and row.round == 2017
    # a coordinator's list is narrowed by the same SQL
    coord_b = _bearer(app, "coord-b")
    assert [r["id"] for r in _list(client, coord_b)["submissions"]] == [pushed_b["sub"]]
    assert _list(client, coord_b, district=a)["total"] == 0


def test_the_page_query_filters_and_limits_in_the_database(console, app):
    a = console.district_a
    for answers in console.interviews[a][:3]:
        console.push("enum-a", answers)
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        _list(console.client, _bearer(app, "coord-a"), district=a, state="received", size=2)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    paged = [s for s in statements if "LIMIT" in s and "submission_places.district" in s]
    assert paged, statements
    assert "submission_places.district IN" in paged[0] and "submission_places.district =" in paged[0]
    assert "count(" in " ".join(statements).lower()


def test_places_catch_up_once_and_then_only_for_changed_heads(console, app):
    from server.console import places

    for answers in console.interviews[console.district_a][:2]:
        console.push("enum-a", answers)
    with app.app_context():
        assert places.refresh(db.session) == 2
        assert places.refresh(db.session) == 0
        assert len(db.session.scalars(select(SubmissionPlace)).all()) == 2
