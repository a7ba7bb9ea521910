"""Fixtures of the page tests: a server seeded once per run with a small season, and signed-in clients.

The season (1,500 interviews over 2017 and 2018, fixed seed) is ingested the way the reports API
tests do it; planners here have cells of fewer than 20 respondents withheld, so every page has some.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests.conftest import backend
from tests.conftest import create_postgres_database
from tests.conftest import drop_postgres_database
from tests.conftest import make_app
from tests.conftest import migrate_to_head

PASSWORD = "correct horse battery"
#: The small-cell threshold of the seeded site: high enough that some communes and groups are withheld.
MIN_CELL = 20
ROLES = ("analyst", "planner", "enumerator", "coordinator", "admin")


@dataclass
class Site:
    """The seeded app; one user per role (``web-<role>``, password :data:`PASSWORD`)."""

    app: object

    @staticmethod
    def username(role: str) -> str:
        return f"web-{role}"


def seed(app, *, seed: int = 11, interviews: int = 1500) -> None:
    """Ingest a generated season (interviews and outreach log) and create one user per role."""
    from analysis.simulation import generate
    from server.accounts import users as accounts
    from server.extensions import db
    from server.forms import registry as form_registry
    from server.models import reference
    from server.sync.store import SqlStore
    from tests.server.conftest import ingest_season

    season = generate(seed=seed, interviews=interviews, rounds=(2017, 2018))
    with app.app_context():
        reference.load_places(db.session)
        reference.ensure_rounds(db.session, app.config["ROUNDS"])
        form_registry.install_library(db.session)
        for role in ROLES:
            accounts.create_user(db.session, Site.username(role), PASSWORD, role)
        db.session.commit()
        ingest_season(SqlStore(db.engine), season)
        db.session.remove()


def seeded_app(migrated_database, folder, prefix: str = "ferry_web"):
    """An app with the seeded season on its own database (a copy of the template, or a new PG one named
    from ``prefix``); return it with the database URL."""
    if backend() == "postgresql":
        url = create_postgres_database(prefix)
    else:
        path = folder / "ferry.sqlite"
        shutil.copyfile(sa.make_url(migrated_database).database, path)
        url = f"sqlite:///{path}"
    app = make_app(url, folder / "instance", ROUNDS=[2017, 2018], REPORT_MIN_CELL=MIN_CELL)
    if backend() == "postgresql":
        migrate_to_head(app)
    seed(app)
    return app, url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test (``item.report_call`` once its body ran), so that a fixture's
    teardown can tell a test that ran from one whose setup failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def site(migrated_database, tmp_path_factory):
    """An app with the seeded season, on its own database (a copy of the template, or a new PG one)."""
    app, url = seeded_app(migrated_database, tmp_path_factory.mktemp("web-site"))
    yield Site(app)
    drop_seeded(app, url)


def drop_seeded(app, url) -> None:
    """Close :func:`seeded_app`'s connections and drop its PostgreSQL database."""
    from server.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if backend() == "postgresql":
        drop_postgres_database(url)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = _CSRF.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def sign_in(client, username: str, password: str = PASSWORD, *, next_: str | None = None, lang: str = "vi"):
    """Sign in through the form as a browser does (GET it for its CSRF token, POST it); return the answer."""
    page = client.get("/login", query_string={"lang": lang, **({"next": next_} if next_ else {})})
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "username": username, "password": password}
    if next_:
        form["next"] = next_
    return client.post("/login", data=form)


@pytest.fixture
def as_role(site):
    """A function returning a test client of the seeded site signed in with ``role``."""

    def make(role: str):
        client = site.app.test_client()
        response = sign_in(client, Site.username(role))
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    return make
