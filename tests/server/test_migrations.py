"""Migrations from an empty database, on the backend of this run, and their match with the models."""

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
