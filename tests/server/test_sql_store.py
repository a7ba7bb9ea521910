"""The SQL store passes the same contract as the in-memory store, on SQLite and PostgreSQL."""

import threading

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Blob
from server.models import utcnow
from server.sync import bulk
from server.sync.store import SqlStore
from sync.testing.suite import StoreContract
from tests.conftest import backend
from tests.server.contract_forms import SqlForms


class TestSqlStore(StoreContract):
    @pytest.fixture
    def forms(self, app):
        with app.app_context():
            return SqlForms.standard_in(db.engine)

    @pytest.fixture
    def store(self, app, forms):
        with app.app_context():
            engine = db.engine
        store = SqlStore(engine)
        yield store
        engine.dispose()

    def add_blob(self, store, sha256):
        with store.transaction():
            store._session.add(Blob(sha256=sha256, size=1, content_type="image/jpeg", received=1,
                                    complete=True, created_at=utcnow()))

    def backup(self, store):
        """Copy every row of every table, as a nightly dump would."""
        with store.engine.connect() as conn:
            return {table.name: [dict(row._mapping) for row in conn.execute(sa.select(table))]
                    for table in db.metadata.sorted_tables}

    def restore(self, store, backup):
        """Put the backup back in place of the current data, then mint a new epoch."""
        with store.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(sa.delete(table))
            for table in db.metadata.sorted_tables:
                if backup[table.name]:
                    conn.execute(sa.insert(table), backup[table.name])
        with store.transaction():
            store.start_new_epoch()
        return store

    def test_an_analysis_row_is_its_heads_one_row_and_follows_it(self, app, store):
        # Keyed by the head's seq with a foreign key to it (no index of random submission ids): a row for no
        # head is refused at commit, a second row of one head is refused, and a moved head takes its row.
        from server.models import Respondent
        from sync.store import AnalysisRow
        from sync.store import SubmissionHead

        with store.snapshot():
            values = store.form_version("awareness", "1").analysis_values({"age": 30, "heard": "yes"})
        with pytest.raises(sa.exc.IntegrityError), store.transaction():
            store.save_analysis_row("nobody", AnalysisRow("nobody", "awareness", "1", 41, values))
        with store.transaction():
            store.save_submission(SubmissionHead("s-1", "awareness", "1", "d", "r1", 1, False, 42))
            store.save_analysis_row("s-1", AnalysisRow("s-1", "awareness", "1", 42, values))
        with app.app_context():
            table = Respondent.__table__
            with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
                conn.execute(sa.insert(table), {"submission_id": "s-1", "form_id": "awareness",
                                                "form_version": "1", "seq": 42, "consented": True,
                                                "points": b"", "choices": b""})
        with store.transaction():  # a revision that does not win (as after a delete) moves the head only
            store.save_submission(SubmissionHead("s-1", "awareness", "1", "d", "r1", 2, False, 50))
        with store.snapshot():
            assert store.analysis_row("s-1").seq == 50
        with app.app_context():
            assert db.session.execute(sa.select(table.c.submission_id, table.c.seq)).all() == [("s-1", 50)]

    def test_a_push_is_decided_in_its_write_transaction_where_the_lock_is_the_counter_step(self, store):
        # PostgreSQL's writers exclude each other from the counter step on, so a push reads, checks and
        # decides its batch in its write transaction, before that step: one transaction, one ledger look-up.
        # A correction committed between the decision and the counter step is seen under the lock and the
        # batch decided again (the contract's race tests put it there too, through WritesFirst).
        from sync import batch
        from sync.testing.fakes import WritesFirst
        from sync.testing.fakes import correct_op
        from sync.testing.fakes import create_op
        from sync.testing.fakes import push_ops

        assert store.locks_at_begin is (backend() != "postgresql")
        if backend() != "postgresql":
            pytest.skip("SQLite's writers take the lock at BEGIN: a push decides in a read snapshot first")
        a, b = self.make_device(store), self.make_device(store)
        create = create_op()
        push_ops(store, a, [create])
        opened, looked_up, decided = [], [], []
        counting = _Counting(store, opened, looked_up)
        push_ops(counting, a, [create_op(), create_op()])
        assert (opened, looked_up) == (["transaction"], [2])
        racing = WritesFirst(store, lambda: push_ops(store, b, [correct_op(create["sub"], create["id"])]))
        with pytest.MonkeyPatch.context() as patch:
            decide = batch._decided
            patch.setattr(batch, "_decided", lambda *args, **kw: decided.append(threading.get_ident())
                          or decide(*args, **kw))
            response = push_ops(racing, a, [correct_op(create["sub"], create["id"], answers={"age": 50})])
        # this push's, before the counter step and again under it (the other push's, on its own thread)
        assert decided.count(threading.get_ident()) == 2 and len(decided) == 3
        assert response.results[0].details["rev"] == 3
        assert response.results[0].details["conflict"] == "concurrent-edit"


class _Counting:
    """A store that notes the transactions and snapshots opened and the ledger look-ups made through it."""

    def __init__(self, inner, opened: list, looked_up: list):
        self._inner, self._opened, self._looked_up = inner, opened, looked_up

    def __getattr__(self, attr):
        return getattr(self._inner, attr)

    def transaction(self):
        self._opened.append("transaction")
        return self._inner.transaction()

    def snapshot(self):
        # inside a transaction a snapshot reads the transaction's own session: only a fresh one counts
        if getattr(self._inner._local, "session", None) is None:
            self._opened.append("snapshot")
        return self._inner.snapshot()

    def find_ops(self, op_ids):
        self._looked_up.append(len(op_ids))
        return self._inner.find_ops(op_ids)


def _insert(conn, table, rows):
    """Rows through the store's driver path: staged (bound values made), then sent."""
    bulk.send(conn, bulk.stage(conn.dialect, table, rows))


def test_rows_inserted_at_the_driver_are_stored_as_core_stores_them(app):
    # write_batch hands rows to the driver (server.sync.bulk): JSON, timestamps, booleans, bytes and NULLs
    # must reach the database exactly as Core's insert sends them, on each backend.
    import datetime as dt

    from server.models import QuarantinedSubmission

    table = QuarantinedSubmission.__table__
    moment = dt.datetime(2026, 6, 1, 8, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=7)))

    def row(key, seq):
        return {"key": key, "op_id": "op", "device_id": "d", "reason": "op-invalid",
                "issues": [{"code": "x", "detail": "Tiếng Việt \u2028", "n": 1.5e-7}],
                "payload": b"\x00\xff{}",
                "received_at": moment, "seq": seq, "submission_id": None, "form_id": None,
                "form_version": "", "resolved_at": None, "resolution": None}

    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.insert(table), [row("core", 2**40)])
            # one row (Core's own VALUES statement, its values as scalars) and a batch (PostgreSQL: arrays)
            one = bulk.stage(conn.dialect, table, [row("driver", 2**40 + 1)])
            batch = bulk.stage(conn.dialect, table, [row("batch-a", 2**40 + 2), row("batch-b", 2**40 + 3)])
            bulk.send(conn, one)
            bulk.send(conn, batch)
            raw = {r[0]: r[1:] for r in conn.exec_driver_sql(
                "SELECT key, issues, payload, received_at, submission_id, form_version FROM "
                "quarantined_submissions ORDER BY key")}
            typed = {r.key: r for r in conn.execute(sa.select(table))}
            postgresql = conn.dialect.name == "postgresql"
    assert not one.plan.by_column and "VALUES" in one.plan.sql
    assert batch.plan.by_column == postgresql
    for key, seq in (("driver", 2**40 + 1), ("batch-a", 2**40 + 2), ("batch-b", 2**40 + 3)):
        assert raw[key] == raw["core"]  # the stored representation, not only what reads back
        assert {**typed[key]._asdict(), "key": "core", "seq": 2**40} == typed["core"]._asdict()
        assert typed[key].seq == seq
    assert typed["driver"].received_at == moment and typed["driver"].issues[0]["n"] == 1.5e-7


def test_rows_staged_before_the_transaction_are_stored_with_their_offsets(app):
    # A push batch is staged (bound values made) before its seqs are reserved; the offset is added as it is
    # sent: to a column of its own value in each row, and to a column of one value, sent once.
    # a table of its own: a seq shared by rows is no key of Ferry's tables
    table = sa.Table("bulk_offsets", sa.MetaData(), sa.Column("key", sa.String(64), primary_key=True),
                     sa.Column("seq", sa.BigInteger), sa.Column("consented", sa.Boolean),
                     sa.Column("points", sa.LargeBinary))

    def row(key, seq):
        return {"key": key, "seq": seq, "consented": True, "points": b"\x00\x00\x80\x3f"}

    with app.app_context():
        table.create(db.engine)
        try:
            varying = bulk.stage(db.engine.dialect, table, [row("v1", 1), row("v2", 2), row("v3", 3)])
            shared = bulk.stage(db.engine.dialect, table, [row("c1", 7), row("c2", 7)])
            # named as moved when staged, as a push batch's seqs are: on PostgreSQL the server adds the offset
            moved = bulk.stage(db.engine.dialect, table, [row("m1", 1), row("m2", 2)], moved=("seq",))
            unmoved = bulk.stage(db.engine.dialect, table, [row("u1", 4), row("u2", 4)], moved=("seq",))
            single = bulk.stage(db.engine.dialect, table, [row("s1", 1)], moved=("seq",))
            with db.engine.begin() as conn:
                bulk.send(conn, varying, {"seq": 2**40})
                bulk.send(conn, shared, {"seq": 2**41})
                bulk.send(conn, moved, {"seq": 2**42})
                bulk.send(conn, unmoved)  # no offset given: stored as staged
                bulk.send(conn, single, {"seq": 2**43})
                stored = dict(conn.execute(sa.select(table.c.key, table.c.seq)).all())
        finally:
            table.drop(db.engine)
    assert stored == {"v1": 2**40 + 1, "v2": 2**40 + 2, "v3": 2**40 + 3, "c1": 2**41 + 7, "c2": 2**41 + 7,
                      "m1": 2**42 + 1, "m2": 2**42 + 2, "u1": 4, "u2": 4, "s1": 2**43 + 1}
    if backend() == "postgresql":  # one statement by column, the offset one parameter the server adds
        assert list(moved.plan.offsets) == ["seq offset"]
        assert " + %b::BIGINT" in moved.plan.sql and not varying.plan.offsets


def test_a_batch_at_the_driver_keeps_each_row_and_refuses_what_core_refuses(app):
    # PostgreSQL takes a batch as one array per column (unnest): each row must keep its own NULLs and values,
    # a duplicate key must fail as Core's insert fails (IntegrityError, which the store's fallback handles),
    # and text longer than its column must be refused, never cut to fit by the arrays' casts.
    import datetime as dt

    from server.models import QuarantinedSubmission

    table = QuarantinedSubmission.__table__
    moment = dt.datetime(2026, 6, 1, 8, 30, tzinfo=dt.UTC)
    rows = [{"key": f"k{i}", "op_id": f"op{i}", "device_id": "d", "reason": "op-invalid",
             "issues": [{"i": i}] if i % 2 else [], "payload": bytes([i]) * i, "received_at": moment,
             "seq": 2**41 + i, "submission_id": None if i % 3 else f"s{i}", "form_id": None,
             "form_version": "v" * i, "resolved_at": moment if i == 4 else None, "resolution": None}
            for i in range(6)]
    # columns of one value in every row (device_id, reason, received_at, form_id) go as one value: so do
    # these, a JSON document and bytes shared by all the rows
    shared = [{**r, "key": f"s{r['key']}", "seq": r["seq"] + 100, "issues": [{"same": "ế"}],
               "payload": b"\x00"} for r in rows]
    with app.app_context():
        with db.engine.begin() as conn:
            _insert(conn, table, shared)
            stored = {r.key: r._asdict() for r in conn.execute(sa.select(table).where(table.c.seq >= 2**41))}
        assert stored == {r["key"]: r for r in shared}
        with db.engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.seq >= 2**41))
            _insert(conn, table, rows)
            stored = {r.key: r._asdict() for r in conn.execute(sa.select(table).where(table.c.seq >= 2**41))}
        assert stored == {r["key"]: r for r in rows}

        duplicate = [{**rows[0], "key": "new", "seq": 2**42}, {**rows[1], "seq": 2**42 + 1}]
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            _insert(conn, table, duplicate)

        too_long = {**rows[0], "key": "long", "op_id": "x" * 65, "seq": 2**43}
        # alone, and in two rows that share it (a column of one value is sent once, not as an array)
        for batch in ([too_long], [too_long, {**too_long, "key": "long2", "seq": 2**43 + 1}]):
            outcomes = {}
            for path in ("core", "driver"):
                try:
                    with db.engine.begin() as conn:
                        if path == "core":
                            conn.execute(sa.insert(table), batch)
                        else:
                            _insert(conn, table, batch)
                        query = sa.select(table.c.op_id).where(table.c.key == "long")
                        outcomes[path] = conn.execute(query).scalar()
                        raise _RollBack
                except _RollBack:
                    pass
                except sa.exc.DBAPIError as err:
                    outcomes[path] = type(err.orig).__name__
            assert outcomes["driver"] == outcomes["core"]
        # PostgreSQL refuses the 65 characters of a VARCHAR(64); SQLite keeps them whole: neither cuts them
        assert outcomes["core"] in ("x" * 65, "StringDataRightTruncation")


class _RollBack(Exception):
    pass


def test_look_ups_by_lists_of_keys_match_whole_keys_only(app):
    # PostgreSQL binds a push's keys as one array (key = ANY(...)): a key longer than its column must find
    # nothing, not the stored key it would be cut to by a cast to VARCHAR(64)
    import datetime as dt

    from sync.store import OpRecord

    stored = "a" * 64
    with app.app_context():
        store = SqlStore(db.engine)
        with store.transaction():
            store.insert_op(OpRecord(op_id=stored, device_id="d", payload_hash="h",
                                     result={"status": "created"}, seq=2**44,
                                     received_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)))
        with store.transaction():
            longer = store.find_ops([stored + "b"])
            found = store.find_ops(["b" + stored, stored])
    assert longer == {}  # the three look-ups by lists of keys are built alike (_by_keys)
    assert list(found) == [stored]


def test_a_value_shared_by_every_row_is_processed_once_and_others_each():
    from server.sync.bulk import _processed

    calls = []

    def process(value):
        calls.append(value)
        return f"<{value}>"

    shared, equal = ["now"], ["now"]  # equal, but not the same object: processed apart
    assert _processed(process, (shared,) * 3) == ("<['now']>",) * 3 and len(calls) == 1
    assert _processed(process, (shared, equal, shared)) == ["<['now']>"] * 3 and len(calls) == 4


def test_postgresql_gets_a_batch_dumped_before_its_transaction_and_a_connection_not_in_utf8_as_staged(app):
    # server.sync.predumped: on PostgreSQL a staged batch carries its columns in psycopg's binary form, and
    # the tests above then check what that path stores. A connection in another encoding is sent the values
    # as staged (UTF-8 bytes would be stored as other characters there), and stores the same rows.
    if backend() != "postgresql":
        pytest.skip("values are dumped before the transaction on PostgreSQL only")
    from server.sync import predumped

    table = sa.Table("predumped_rows", sa.MetaData(), sa.Column("key", sa.String(64), primary_key=True),
                     sa.Column("note", sa.Text), sa.Column("extra", sa.JSON), sa.Column("seq", sa.BigInteger))
    rows = [{"key": f"k{i}", "note": "café" if i else None, "extra": {"n": i}, "seq": i} for i in range(3)]
    with app.app_context():
        table.create(db.engine)
        latin = sa.create_engine(db.engine.url, connect_args={"client_encoding": "latin1"},
                                 json_serializer=db.engine.dialect._json_serializer)
        try:
            staged = bulk.stage(db.engine.dialect, table, rows, moved=("seq",))
            # every column is dumped here, the seqs as counted from 1; their offset, which the server adds, is
            # dumped as it is sent
            dumped = dict(zip((name for name, _ in staged.plan.params), staged.dumped, strict=True))
            assert list(staged.plan.offsets) == ["seq offset"]
            assert dumped.pop("seq offset") is None
            assert set(dumped) == {"key", "note", "extra", "seq"}
            assert all(isinstance(d, predumped.Dumped) for d in dumped.values())
            with db.engine.begin() as conn:
                assert predumped.usable(conn)
                bulk.send(conn, staged, {"seq": 10})
            with latin.begin() as conn:
                assert not predumped.usable(conn)
                renamed = [{**r, "key": "l" + r["key"]} for r in rows]
                bulk.send(conn, bulk.stage(latin.dialect, table, renamed), {"seq": 20})
            with db.engine.connect() as conn:
                stored = {r.key: r._asdict() for r in conn.execute(sa.select(table))}
        finally:
            latin.dispose()
            table.drop(db.engine)
    assert stored == {**{r["key"]: {**r, "seq": r["seq"] + 10} for r in rows},
                      **{"l" + r["key"]: {**r, "key": "l" + r["key"], "seq": r["seq"] + 20} for r in rows}}


def test_a_dialect_without_its_connections_adapters_leaves_the_dumping_to_psycopg():
    # server.sync.predumped reads the adapters map SQLAlchemy's psycopg dialect makes its connections from
    # (the engine's JSON text is in it); without it, nothing is dumped early, and the batch is sent as staged
    from server.sync import predumped

    class Dialect:
        pass

    assert predumped.dump(Dialect(), [["a", "b"], 1]) is None
