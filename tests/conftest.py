"""Fixtures: a fresh app and an empty, migrated database for every test, on SQLite or PostgreSQL.

Set ``FERRY_TEST_DATABASE_URL`` to a PostgreSQL database (for example
``postgresql://postgres@127.0.0.1:5432/test``) to run the suite there: a new database is created
for the run from that connection and dropped at the end. Without it, the suite runs on SQLite.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

# CI runs the property tests with a fixed seed, so a run's verdict does not depend on luck;
# developers' runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

TEST_DB_ENV = "FERRY_TEST_DATABASE_URL"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    """Return a path under ../shared, skipping the test (with the reason) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads the project's shared research data, "
                    "which CI has beside the checkout")
    return path


def _admin_url() -> str | None:
    url = os.environ.get(TEST_DB_ENV)
    if url and url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def backend() -> str:
    """Return the backend this run tests: ``postgresql`` or ``sqlite``."""
    return "postgresql" if _admin_url() else "sqlite"


def create_postgres_database(prefix: str = "ferry_test") -> str:
    """Create a new empty PostgreSQL database next to the configured one; return its URL."""
    admin = sa.make_url(_admin_url())
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by ``create_postgres_database``."""
    name = sa.make_url(url).database
    engine = sa.create_engine(sa.make_url(_admin_url()), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def make_app(database_url: str, instance: Path, **config):
    """Create a test app on ``database_url`` with its instance folder at ``instance``."""
    from server import create_app

    return create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        **config,
    })


def migrate_to_head(app) -> None:
    """Apply every migration to the app's database."""
    from flask_migrate import upgrade

    from server.models.database import MIGRATIONS_DIR

    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """Create and migrate one database for the run: a template file (SQLite) or a database (PG)."""
    if backend() == "postgresql":
        url = create_postgres_database()
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("template") / "template.sqlite")
    app = make_app(url, tmp_path_factory.mktemp("template-instance"))
    migrate_to_head(app)
    with app.app_context():
        from server.extensions import db

        db.engine.dispose()
    yield url
    if backend() == "postgresql":
        drop_postgres_database(url)


def _empty_tables(app) -> None:
    from server.extensions import db

    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                 + " RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes():
    """argon2id at its lowest cost in the test process: the product's cost (64 MiB, 3 passes) is
    ~115 ms a hash here: 712 hashes and checks took 87 s of tests/console and tests/server alone.
    Hashes stay argon2id; tests/server/test_auth.py checks the product's cost in a fresh process,
    and servers the tests start as subprocesses (gunicorn, make serve) hash at full cost."""
    from argon2 import PasswordHasher

    from server.accounts import secrets

    saved = secrets._hasher, secrets._DUMMY_HASH
    secrets._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    secrets._DUMMY_HASH = secrets._hasher.hash("no user has this password")
    yield
    secrets._hasher, secrets._DUMMY_HASH = saved


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Keep the developer's FERRY_* and FLASK_* variables out of the tests."""
    for name in list(os.environ):
        if name.startswith(("FERRY_", "FLASK_")) and name != TEST_DB_ENV:
            monkeypatch.delenv(name)


@pytest.fixture
def database_url(migrated_database, tmp_path):
    """Return the URL of an empty, migrated database for this test."""
    if backend() == "postgresql":
        return migrated_database
    path = tmp_path / "ferry.sqlite"
    shutil.copyfile(sa.make_url(migrated_database).database, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url, tmp_path):
    """A fresh app on an empty, migrated database."""
    app = make_app(database_url, tmp_path / "instance")
    yield app
    if backend() == "postgresql":
        _empty_tables(app)
    else:
        from server.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner of ``app``."""
    return app.test_cli_runner()


@pytest.fixture
def places(app):
    """Load the reference places and rounds into the test database."""
    from server.extensions import db
    from server.models import reference

    with app.app_context():
        reference.load_places(db.session)
        reference.ensure_rounds(db.session, app.config["ROUNDS"])
        db.session.commit()


@pytest.fixture
def forms_installed(app, places):
    """Install the built-in forms (awareness, outreach) as open versions."""
    from server.extensions import db
    from server.forms import registry as form_registry

    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()


class Accounts:
    """Create users and devices with bearer tokens, the way the tests need them."""

    def __init__(self, app):
        self.app = app

    def user(self, role: str, username: str | None = None, password: str = "correct horse battery"):
        """Create a user with ``role``; return ``(username, password, headers)``."""
        from server.accounts import users as accounts
        from server.accounts.secrets import issue_token
        from server.extensions import db
        from server.models.database import writing

        username = username or f"{role}-{uuid.uuid4().hex[:6]}"
        # a live server may commit between the name check and the insert: take the write lock first
        with self.app.app_context(), writing():
            user = accounts.create_user(db.session, username, password, role)
            secret, _ = issue_token(user=user)
            db.session.commit()
        return username, password, {"Authorization": f"Bearer {secret}"}

    def headers(self, role: str) -> dict:
        """Return Authorization headers of a new user with ``role``."""
        return self.user(role)[2]

    def device(self, username: str | None = None):
        """Create an enumerator with an enrolled device; return ``(device_id, headers)``."""
        import datetime as dt

        from server.accounts import users as accounts
        from server.accounts.secrets import issue_token
        from server.extensions import db
        from server.models.database import writing

        username = username or self.user("enumerator")[0]
        with self.app.app_context(), writing():
            device, _ = accounts.enroll_device(db.session, username, "test phone", dt.timedelta(hours=1))
            secret, _ = issue_token(device=device)
            db.session.commit()
            return device.id, {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def accounts(app):
    """A helper that creates users and devices with tokens."""
    return Accounts(app)
