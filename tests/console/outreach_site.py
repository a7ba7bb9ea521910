"""A seeded site for the outreach-plan tests: the page tests' season (2017 and 2018, with its outreach log),
one user per role, a coordinator of one district and one of every district."""

from __future__ import annotations

import shutil

import sqlalchemy as sa

from server.api.access import issue_token
from tests.conftest import backend
from tests.conftest import create_postgres_database
from tests.conftest import drop_postgres_database
from tests.conftest import make_app
from tests.conftest import migrate_to_head
from tests.web.conftest import MIN_CELL
from tests.web.conftest import seed

ONE_DISTRICT = "925"  # Cờ Đỏ: rural communes
ALL_DISTRICTS = ("916", "917", "918", "919", "923", "924", "925", "926", "927")


def make_site(migrated_database, folder):
    """The seeded app and its database URL (drop it with :func:`drop_site`)."""
    if backend() == "postgresql":
        url = create_postgres_database("ferry_outreach")
    else:
        path = folder / "ferry.sqlite"
        shutil.copyfile(sa.make_url(migrated_database).database, path)
        url = f"sqlite:///{path}"
    app = make_app(url, folder / "instance", ROUNDS=[2017, 2018], REPORT_MIN_CELL=MIN_CELL)
    if backend() == "postgresql":
        migrate_to_head(app)
    seed(app)
    from server.accounts import users as accounts
    from server.console import scope
    from server.extensions import db

    with app.app_context():
        accounts.create_user(db.session, "coord-all", "correct horse battery", "coordinator")
        db.session.flush()
        scope.grant_districts(db.session, "web-coordinator", [ONE_DISTRICT])
        scope.grant_districts(db.session, "coord-all", list(ALL_DISTRICTS))
        db.session.commit()
    return app, url


def drop_site(app, url) -> None:
    from server.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if backend() == "postgresql":
        drop_postgres_database(url)


def bearer(app, username: str) -> dict:
    from server.extensions import db
    from server.models import User

    with app.app_context():
        user = db.session.query(User).filter_by(username=username).one()
        secret, _ = issue_token(user=user)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}
