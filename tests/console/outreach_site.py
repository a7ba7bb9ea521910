"""A seeded site for the outreach-plan tests: the page tests' season (2017 and 2018, with its outreach log),
one user per role, a coordinator of one district and one of every district."""

from __future__ import annotations

from tests.console.test_api import _bearer as bearer  # noqa: F401 - the tests' bearer headers
from tests.web.conftest import drop_seeded as drop_site  # noqa: F401 - the fixtures' teardown
from tests.web.conftest import seeded_app

ONE_DISTRICT = "925"  # Cờ Đỏ: rural communes
ALL_DISTRICTS = ("916", "917", "918", "919", "923", "924", "925", "926", "927")


def make_site(migrated_database, folder):
    """The seeded app and its database URL (drop it with :func:`drop_site`)."""
    app, url = seeded_app(migrated_database, folder, "ferry_outreach")
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
