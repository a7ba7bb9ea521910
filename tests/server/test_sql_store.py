"""The SQL store passes the same contract as the in-memory store, on SQLite and PostgreSQL."""

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Blob
from server.models import utcnow
from server.sync.store import SqlStore
from sync.testing.suite import StoreContract
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
