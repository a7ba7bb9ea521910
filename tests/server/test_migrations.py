"""Migrations from an empty database, on the backend of this run, and their match with the models."""

import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade
from flask_migrate import upgrade

from server.extensions import db
from server.models.database import MIGRATIONS_DIR
from server.models.database import render_item
from tests.conftest import backend
from tests.conftest import create_postgres_database
from tests.conftest import drop_postgres_database
from tests.conftest import make_app


@pytest.fixture
def empty_app(tmp_path):
    if backend() == "postgresql":
        url = create_postgres_database("ferry_migrate")
    else:
        url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    app = make_app(url, tmp_path / "instance")
    yield app
    with app.app_context():
        db.engine.dispose()
    if backend() == "postgresql":
        drop_postgres_database(url)


def _differences(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_item": render_item})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_models_then_downgrades_cleanly(empty_app):
    with empty_app.app_context():
        assert sa.inspect(db.engine).get_table_names() == []
        upgrade(directory=MIGRATIONS_DIR)
        tables = set(sa.inspect(db.engine).get_table_names())
    assert {"communes", "districts", "submissions", "quarantined_submissions", "audit_log",
            "users", "devices", "api_tokens", "form_versions", "rounds", "assignments"} <= tables
    # Autogenerate finds nothing: the models and the migrations describe the same schema.
    assert _differences(empty_app) == []
    with empty_app.app_context():
        downgrade(directory=MIGRATIONS_DIR, revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=MIGRATIONS_DIR)
    assert _differences(empty_app) == []


def test_comparison_detects_a_model_without_migration(empty_app):
    # The check above must be able to fail: a table the migrations lack is reported.
    with empty_app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    extra = sa.Table("not_migrated", db.metadata, sa.Column("id", sa.Integer, primary_key=True))
    try:
        diffs = _differences(empty_app)
    finally:
        db.metadata.remove(extra)
    assert any(d[0] == "add_table" and d[1].name == "not_migrated" for d in diffs)


def test_json_text_columns_keep_their_documents_across_0013(empty_app):
    # 0013 retypes the push path's JSON columns on PostgreSQL (jsonb to json) over rows already stored; the
    # documents read back the same after the upgrade and after the downgrade (SQLite: nothing to retype).
    answers = {"consent": "yes", "age": 31, "items": ["a", "b"], "nested": {"text": "Cần Thơ"}}
    row = {"op_id": "op-1", "submission_id": "s-1", "number": 1, "device_id": "d", "kind": "create",
           "form_id": "awareness", "form_version": "1", "answers": answers, "seq": 1, "blobs": [],
           "received_at": "2026-06-01T00:00:00+00:00"}
    read = sa.text("SELECT answers, blobs FROM submission_revisions WHERE op_id = 'op-1'")
    with empty_app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0012")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO submission_revisions (op_id, submission_id, number, device_id, kind, form_id, "
                "form_version, answers, received_at, seq, blobs) VALUES (:op_id, :submission_id, :number, "
                ":device_id, :kind, :form_id, :form_version, :answers, :received_at, :seq, :blobs)"),
                {**row, "answers": json.dumps(answers), "blobs": "[]"})
        stored, types = [], []
        for step in (lambda: upgrade(directory=MIGRATIONS_DIR, revision="0013"),
                     lambda: downgrade(directory=MIGRATIONS_DIR, revision="0012")):
            step()
            with db.engine.connect() as conn:
                values = conn.execute(read).one()
            stored.append(tuple(json.loads(v) if isinstance(v, str) else v for v in values))
            columns = sa.inspect(db.engine).get_columns("submission_revisions")
            types.append(next(type(c["type"]).__name__ for c in columns if c["name"] == "answers"))
    assert stored == [(answers, []), (answers, [])]
    assert types == (["JSON", "JSONB"] if backend() == "postgresql" else ["JSON", "JSON"])


def test_0014_keys_respondents_by_their_heads_seq_and_drops_rows_without_a_head(empty_app):
    # Rows stored before 0014 take their head's current seq (one had fallen behind it); a row whose head is
    # gone or deleted is dropped (reindex rebuilds the table from the heads). Downgrading keeps the rows.
    head = ("INSERT INTO submissions (id, form_id, form_version, device_id, head, revisions, deleted, seq) "
            "VALUES (:id, 'awareness', '1', 'd', :head, 1, :deleted, :seq)")
    row = ("INSERT INTO respondents (submission_id, form_id, form_version, seq, consented, points, choices) "
           "VALUES (:id, 'awareness', '1', :seq, true, :blob, :blob)")
    read = sa.text("SELECT submission_id, seq FROM respondents ORDER BY submission_id")
    with empty_app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0013")
        with db.engine.begin() as conn:
            conn.execute(sa.text(head), [{"id": "fresh", "head": "o1", "deleted": False, "seq": 3},
                                         {"id": "behind", "head": "o2", "deleted": False, "seq": 7},
                                         {"id": "deleted", "head": "o3", "deleted": True, "seq": 8}])
            conn.execute(sa.text(row), [{"id": "fresh", "seq": 3, "blob": b"\x01"},
                                        {"id": "behind", "seq": 4, "blob": b"\x02"},
                                        {"id": "deleted", "seq": 5, "blob": b"\x03"},
                                        {"id": "orphan", "seq": 6, "blob": b"\x04"}])
        upgrade(directory=MIGRATIONS_DIR, revision="0014")
        with db.engine.connect() as conn:
            upgraded = conn.execute(read).all()
        downgrade(directory=MIGRATIONS_DIR, revision="0013")
        with db.engine.connect() as conn:
            downgraded = conn.execute(read).all()
    assert upgraded == [("behind", 7), ("fresh", 3)]
    assert downgraded == upgraded


def _revision_index(conn) -> str:
    if backend() == "postgresql":
        return conn.execute(sa.text("SELECT indexdef FROM pg_indexes "
                                    "WHERE indexname = 'ix_submission_revisions_submission_id'")).scalar_one()
    return conn.execute(sa.text("SELECT sql FROM sqlite_master "
                                "WHERE name = 'ix_submission_revisions_submission_id'")).scalar_one()


def test_0015_finds_revisions_by_submission_through_a_hash_index_on_postgresql(empty_app):
    revision = ("INSERT INTO submission_revisions (op_id, submission_id, number, device_id, kind, form_id, "
                "form_version, answers, received_at, seq, blobs) VALUES (:op, :sub, 1, 'd', 'create', "
                "'awareness', '1', '{}', '2026-12-06 00:00:00', :seq, '[]')")
    read = sa.text("SELECT op_id FROM submission_revisions WHERE submission_id = :sub ORDER BY seq")
    with empty_app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0014")
        with db.engine.begin() as conn:
            conn.execute(sa.text(revision), [{"op": f"o{i}", "sub": f"s{i % 3}", "seq": i} for i in range(9)])
            before = _revision_index(conn)
        upgrade(directory=MIGRATIONS_DIR, revision="0015")
        with db.engine.connect() as conn:
            upgraded = _revision_index(conn)
            found = conn.execute(read, {"sub": "s1"}).scalars().all()
            if backend() == "postgresql":  # the look-up can take the index (so small a table is scanned)
                conn.execute(sa.text("SET enable_seqscan = off"))
                plan = "\n".join(conn.execute(sa.text("EXPLAIN " + read.text), {"sub": "s1"}).scalars())
        downgrade(directory=MIGRATIONS_DIR, revision="0014")
        with db.engine.connect() as conn:
            downgraded = _revision_index(conn)
    assert found == ["o1", "o4", "o7"]
    if backend() == "postgresql":
        assert "USING btree" in before and "USING hash" in upgraded and "USING btree" in downgraded
        assert "ix_submission_revisions_submission_id" in plan
    else:  # SQLite has no hash index: its B-tree stays
        assert before == upgraded == downgraded and "submission_id" in upgraded


def _id_constraints(conn, table: str, key: str = "op_id") -> set[str]:
    """The constraints of ``table`` over its ``key`` ids, by kind: key, unique or exclusion (and method)."""
    if backend() == "postgresql":
        rows = conn.execute(sa.text(
            "SELECT c.contype, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.conrelid = CAST(:table AS regclass) AND c.contype IN ('p', 'u', 'x')"), {"table": table})
        kinds = {"p": "key", "u": "unique", "x": "exclusion"}
        return {kinds[kind] + (" hash" if "USING hash" in text else "")
                for kind, text in rows if f"({key}" in text}
    columns = sa.inspect(conn).get_pk_constraint(table)["constrained_columns"]
    return {"key"} if columns == [key] else set()


def test_0016_keeps_op_ids_unique_through_hash_indexes_on_postgresql(empty_app):
    ledger = ("INSERT INTO sync_ops (op_id, device_id, payload_hash, result, seq, received_at) "
              "VALUES (:op, 'd', 'h', '{}', :seq, '2026-12-07 00:00:00')")
    revision = ("INSERT INTO submission_revisions (op_id, submission_id, number, device_id, kind, form_id, "
                "form_version, answers, received_at, seq, blobs) VALUES (:op, 's', 1, 'd', 'create', "
                "'awareness', '1', '{}', '2026-12-07 00:00:00', :seq, '[]')")
    find = sa.text("SELECT op_id FROM sync_ops WHERE op_id IN ('o2', 'o5') ORDER BY seq")
    tables = ("sync_ops", "submission_revisions")
    with empty_app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0015")
        with db.engine.begin() as conn:
            conn.execute(sa.text(ledger), [{"op": f"o{i}", "seq": i} for i in range(9)])
            conn.execute(sa.text(revision), [{"op": f"o{i}", "seq": i} for i in range(9)])
            before = {t: _id_constraints(conn, t) for t in tables}
        upgrade(directory=MIGRATIONS_DIR, revision="0016")
        with db.engine.connect() as conn:
            upgraded = {t: _id_constraints(conn, t) for t in tables}
            found = conn.execute(find).scalars().all()
            if backend() == "postgresql":  # the look-up can take the hash index (so small a table is scanned)
                conn.execute(sa.text("SET enable_seqscan = off"))
                plan = "\n".join(conn.execute(sa.text("EXPLAIN " + find.text)).scalars())
        refused = {}
        for table, statement in zip(tables, (ledger, revision), strict=True):
            with pytest.raises(sa.exc.IntegrityError) as raised, db.engine.begin() as conn:
                conn.execute(sa.text(statement), {"op": "o3", "seq": 100})  # a stored op id, a new seq
            refused[table] = getattr(raised.value.orig, "sqlstate", "sqlite")
        downgrade(directory=MIGRATIONS_DIR, revision="0015")
        with db.engine.connect() as conn:
            downgraded = {t: _id_constraints(conn, t) for t in tables}
            kept = conn.execute(sa.text("SELECT count(*) FROM submission_revisions")).scalar_one()
    assert found == ["o2", "o5"] and kept == 9
    assert before == downgraded == {t: {"key"} for t in tables}
    if backend() == "postgresql":
        assert upgraded == {t: {"exclusion hash"} for t in tables}
        assert "ex_sync_ops_op_id" in plan
        # an exclusion violation, which the store maps as it maps a key's
        assert refused == {t: "23P01" for t in tables}
    else:  # SQLite keeps its keys
        assert upgraded == before
        assert refused == {t: "sqlite" for t in tables}


def test_0017_keeps_submission_ids_unique_through_a_hash_index_on_postgresql(empty_app):
    head = ("INSERT INTO submissions (id, form_id, form_version, device_id, head, revisions, deleted, seq) "
            "VALUES (:id, 'awareness', '1', 'd', :id, 1, false, :seq)")
    row = ("INSERT INTO respondents (submission_id, form_id, form_version, seq, consented, points, choices) "
           "VALUES (:id, 'awareness', '1', :seq, true, '', '')")
    # as a push reads the heads its corrections name (server/sync/store.py)
    find = ("SELECT id FROM submissions WHERE "
            + ("id = ANY(CAST(:ids AS VARCHAR[]))" if backend() == "postgresql" else "id IN ('s2', 's5')")
            + " ORDER BY seq")
    with empty_app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0016")
        with db.engine.begin() as conn:
            conn.execute(sa.text(head), [{"id": f"s{i}", "seq": i} for i in range(1, 10)])
            conn.execute(sa.text(row), [{"id": f"s{i}", "seq": i} for i in range(1, 10)])
            before = _id_constraints(conn, "submissions", "id")
        upgrade(directory=MIGRATIONS_DIR, revision="0017")
        with db.engine.connect() as conn:
            upgraded = _id_constraints(conn, "submissions", "id")
            found = conn.execute(sa.text(find), {"ids": ["s2", "s5"]}).scalars().all()
            if backend() == "postgresql":  # the look-up can take the hash index (so small a table is scanned)
                conn.execute(sa.text("SET enable_seqscan = off"))
                plan = "\n".join(conn.execute(sa.text("EXPLAIN " + find), {"ids": ["s2", "s5"]}).scalars())
        with pytest.raises(sa.exc.IntegrityError) as raised, db.engine.begin() as conn:
            conn.execute(sa.text(head), {"id": "s3", "seq": 100})  # a stored id, a new seq
        refused = getattr(raised.value.orig, "sqlstate", "sqlite")
        downgrade(directory=MIGRATIONS_DIR, revision="0016")
        with db.engine.connect() as conn:
            downgraded = _id_constraints(conn, "submissions", "id")
            kept = conn.execute(sa.text("SELECT count(*) FROM respondents JOIN submissions USING (seq)")
                                ).scalar_one()
    assert found == ["s2", "s5"] and kept == 9
    assert before == downgraded == {"key"}
    if backend() == "postgresql":
        assert upgraded == {"exclusion hash"}
        assert "ex_submissions_id" in plan
        assert refused == "23P01"  # an exclusion violation, which the store maps as it maps a key's
    else:  # SQLite keeps its key
        assert upgraded == before and refused == "sqlite"


def _ledger_indexes(conn) -> set[str]:
    """The ledger's indexes and unique constraints other than its op ids' (a key, or an exclusion)."""
    inspector = sa.inspect(conn)
    names = {i["name"] for i in inspector.get_indexes("sync_ops")}
    names |= {u["name"] for u in inspector.get_unique_constraints("sync_ops")}
    return {name for name in names if name and "op_id" not in name}


def test_0018_leaves_the_ledger_indexed_by_op_id_only_and_keeps_its_rows(empty_app):
    ledger = ("INSERT INTO sync_ops (op_id, device_id, payload_hash, result, seq, received_at) "
              "VALUES (:op, 'd', 'h', '{}', :seq, '2026-12-07 00:00:00')")
    with empty_app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0017")
        with db.engine.begin() as conn:
            conn.execute(sa.text(ledger), [{"op": f"o{i}", "seq": i} for i in range(9)])
            before = _ledger_indexes(conn)
        upgrade(directory=MIGRATIONS_DIR, revision="0018")
        with db.engine.connect() as conn:
            upgraded = _ledger_indexes(conn)
            kept = conn.execute(sa.text("SELECT op_id FROM sync_ops WHERE op_id = 'o4'")).scalars().all()
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text(ledger), {"op": "o3", "seq": 100})  # a stored op id: still refused
        downgrade(directory=MIGRATIONS_DIR, revision="0017")
        with db.engine.connect() as conn:
            downgraded = _ledger_indexes(conn)
            count = conn.execute(sa.text("SELECT count(*) FROM sync_ops")).scalar_one()
    assert before == downgraded == {"ix_sync_ops_device_id", "uq_sync_ops_seq"}
    assert upgraded == set()
    assert kept == ["o4"] and count == 9


def test_0019_leaves_the_revisions_op_ids_unindexed_and_keeps_their_rows(empty_app):
    revision = ("INSERT INTO submission_revisions (op_id, submission_id, number, device_id, kind, form_id, "
                "form_version, answers, received_at, seq, blobs) VALUES (:op, :sub, 1, 'd', 'create', "
                "'awareness', '1', '{}', '2026-12-07 00:00:00', :seq, '[]')")
    # as a push reads the base revisions its corrections name (server/sync/store.py): by submission first
    find = ("SELECT op_id FROM submission_revisions WHERE "
            + ("submission_id = ANY(CAST(:subs AS VARCHAR[])) AND op_id = ANY(CAST(:ids AS VARCHAR[]))"
               if backend() == "postgresql" else "submission_id IN ('s2', 's5') AND op_id IN ('o2', 'o5')")
            + " ORDER BY seq")
    found_with = {"subs": ["s2", "s5"], "ids": ["o2", "o5"]}
    with empty_app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0018")
        with db.engine.begin() as conn:
            conn.execute(sa.text(revision), [{"op": f"o{i}", "sub": f"s{i}", "seq": i} for i in range(9)])
            before = _id_constraints(conn, "submission_revisions")
        upgrade(directory=MIGRATIONS_DIR, revision="0019")
        with db.engine.connect() as conn:
            upgraded = _id_constraints(conn, "submission_revisions")
            found = conn.execute(sa.text(find), found_with).scalars().all()
            if backend() == "postgresql":  # it can take the submissions' index (so small a table is scanned)
                conn.execute(sa.text("SET enable_seqscan = off"))
            explain = "EXPLAIN " if backend() == "postgresql" else "EXPLAIN QUERY PLAN "
            plan = "\n".join(str(row) for row in conn.execute(sa.text(explain + find), found_with))
        with db.engine.begin() as conn:  # a stored op id again: the ledger refuses it, the revisions do not
            conn.execute(sa.text(revision), {"op": "o3", "sub": "s3", "seq": 100})
            conn.execute(sa.text("DELETE FROM submission_revisions WHERE seq = 100"))
        downgrade(directory=MIGRATIONS_DIR, revision="0018")
        with db.engine.connect() as conn:
            downgraded = _id_constraints(conn, "submission_revisions")
            kept = conn.execute(sa.text("SELECT count(*) FROM submission_revisions")).scalar_one()
    assert found == ["o2", "o5"] and kept == 9
    assert before == downgraded == ({"exclusion hash"} if backend() == "postgresql" else {"key"})
    assert upgraded == set()
    assert "ix_submission_revisions_submission_id" in plan
