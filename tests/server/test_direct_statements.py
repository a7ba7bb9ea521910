"""A push's fixed statements sent straight to the driver give what SQLAlchemy gives, and fail as it fails."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import DeviceSync
from server.models import SyncOp
from server.models.submissions import BUMP_COUNTER
from server.sync import bulk
from server.sync import direct
from server.sync import store as store_module
from server.sync.store import SqlStore
from server.sync.store import _field_names
from sync.errors import WriteConflict
from sync.store import DeviceState
from sync.store import OpRecord
from sync.store import WriteBatch

AT = dt.datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=dt.UTC)


@pytest.fixture
def engine(app, forms_installed):
    with app.app_context():
        engine = db.engine
    yield engine
    engine.dispose()


def _seed(connection) -> None:
    connection.execute(sa.insert(DeviceSync), [
        {"device_id": "dev-1", "epoch": "e1", "last_op": "op-9", "last_n": 9, "clock_skew_s": -40,
         "last_seen_at": AT},
        {"device_id": "dev-2", "epoch": None, "last_op": None, "last_n": None, "clock_skew_s": None,
         "last_seen_at": None}])
    connection.execute(sa.insert(SyncOp), [
        {"op_id": "op-1", "device_id": "dev-1", "payload_hash": "h1",
         "result": {"status": "created", "details": {"sub": "s-1", "n": [1, 2.5, None, "ễ"]}},
         "seq": 11, "received_at": AT},
        {"op_id": "op-2", "device_id": "dev-1", "payload_hash": "h2", "result": {"status": "rejected"},
         "seq": 12, "received_at": AT + dt.timedelta(seconds=1)}])


@pytest.mark.parametrize(("statement", "values"), [
    (store_module._FIND_EPOCH, {}),
    (store_module._FIND_DEVICE_STATE, {"device_id": "dev-1"}),
    (store_module._FIND_DEVICE_STATE, {"device_id": "dev-2"}),
    (store_module._FIND_DEVICE_STATE, {"device_id": "nobody"}),
    (store_module._FIND_FORM_VERSION, {"form_id": "awareness", "version": "2017.1"}),
    (store_module._FIND_OPS, {"ids": ["op-2", "op-1", "op-none"]}),  # one statement per dialect
], ids=["epoch", "device", "device-of-nulls", "no-device", "form-version", "ledger"])
def test_rows_are_what_sqlalchemy_returns(engine, statement, values):
    if isinstance(statement, dict):
        statement = statement[engine.dialect.name]
    with engine.begin() as connection:
        _seed(connection)
        connection.execute(sa.text("DELETE FROM server_state"))
        connection.execute(sa.text("INSERT INTO server_state (id, epoch) VALUES (1, 'epoch-1')"))
        expected = [tuple(row) for row in connection.execute(statement, values)]
        got = direct.rows(connection, statement, values)
        connection.rollback()
    assert got == expected
    assert [type(v) for row in got for v in row] == [type(v) for row in expected for v in row]
    if values.get("device_id") == "dev-1":
        assert got[0][-1] == AT and got[0][-1].tzinfo is not None  # a time of day in UTC, as stored
    if "ids" in values:
        assert sorted(row[0] for row in got) == ["op-1", "op-2"]


def test_a_statement_writes_in_the_callers_transaction(engine):
    with engine.connect() as connection:
        with connection.begin():
            connection.execute(sa.text("DELETE FROM counters WHERE name = 'changes'"))
            connection.execute(sa.text("INSERT INTO counters (name, value) VALUES ('changes', 40)"))
        transaction = connection.begin()
        assert direct.rows(connection, BUMP_COUNTER, {"counter": "changes", "step": 5}) == [(45,)]
        assert connection.execute(sa.text("SELECT value FROM counters WHERE name = 'changes'")).scalar() == 45
        transaction.rollback()
        assert connection.execute(sa.text("SELECT value FROM counters WHERE name = 'changes'")).scalar() == 40


def test_a_key_violation_is_raised_as_sqlalchemys_integrity_error(engine):
    store = SqlStore(engine)
    record = OpRecord(op_id="op-1", device_id="dev-1", payload_hash="h", result={"status": "created"}, seq=1,
                      received_at=AT)
    with store.transaction():
        store.write_batch(WriteBatch(ops=[record]))
    with engine.connect() as connection, connection.begin():
        staged = bulk.stage(engine.dialect, SyncOp.__table__, [record],
                            fields=_field_names(OpRecord))
        with pytest.raises(sa.exc.IntegrityError):
            bulk.send(connection, staged, {"seq": 1})
    # and the store, which maps it, tells the engine a concurrent writer won
    with pytest.raises(WriteConflict), store.transaction():
        store.write_batch(WriteBatch(ops=[record]))


def test_a_statement_rendered_on_each_call_is_refused(engine):
    expanding = sa.select(SyncOp.op_id).where(SyncOp.op_id.in_(sa.bindparam("ids", expanding=True)))
    with engine.connect() as connection, pytest.raises(ValueError, match="expanding"):
        direct.rows(connection, expanding, {"ids": ["a"]})


def test_a_lost_connection_is_invalidated_and_raised_as_sqlalchemy_raises_it(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("a server's connection is lost on PostgreSQL only (SQLite has no server to lose)")
    with engine.connect() as connection:
        pid = direct.rows(connection, sa.select(sa.func.pg_backend_pid()))[0][0]
        with engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(sa.exc.DBAPIError) as raised:
            direct.rows(connection, store_module._FIND_EPOCH)
        assert raised.value.connection_invalidated
        assert connection.invalidated
    with engine.connect() as fresh:  # the pool made a new connection in its place
        assert direct.rows(fresh, sa.select(sa.literal(1))) == [(1,)]


def test_values_dumped_before_a_direct_statement_made_its_cursor_are_sent(engine):
    # psycopg's cursor copies its connection's adapters as it is made: the cursor of a look-up made before the
    # batch's dumper was registered must not be the one that sends the batch's dumped arrays
    store = SqlStore(engine)
    records = [OpRecord(op_id=f"op-{i}", device_id="dev-1", payload_hash="h", result={"i": i}, seq=i,
                        received_at=AT) for i in (1, 2)]
    batch = WriteBatch(ops=records)
    store.stage_batch(batch)
    engine.dispose()  # a new driver connection: no dumper registered yet
    with store.transaction():
        assert store.find_ops(["op-1"]) == {}  # the direct cursor is made here
        store.write_batch(batch)
    with store.snapshot():
        assert set(store.find_ops(["op-1", "op-2"])) == {"op-1", "op-2"}


def test_the_whole_row_look_ups_give_their_records_fields_in_order():
    # the store makes an OpRecord and a DeviceState from a row's tuple by position
    assert tuple(SyncOp.__table__.c.keys()) == _field_names(OpRecord)
    assert tuple(DeviceSync.__table__.c.keys()) == _field_names(DeviceState)
