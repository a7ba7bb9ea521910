"""Fixtures of the OpenRosa tests: the built-in forms, an app user, a real server, ODK's engine."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from server.accounts import app_users
from server.extensions import db
from server.forms import registry as form_registry
from server.models import OpenRosaSubmission
from server.models import QuarantinedSubmission
from server.models import Submission
from server.models import SubmissionRevision
from tests.live_server import live_server
from tests.odk import odk_engine
from tests.openrosa.collect import Collect

needs_engine = pytest.mark.skipif(not odk_engine.available(),
                                  reason="ODK engine not installed (npm ci --prefix tests/odk)")


@pytest.fixture
def installed(app, places):
    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()


def make_app_user(app, name="phone-1", forms=("awareness", "outreach"), enumerator=None) -> str:
    """Create an app user; return its token."""
    with app.app_context():
        _, token = app_users.create(db.session, name, list(forms), enumerator=enumerator)
        db.session.commit()
    return token


@pytest.fixture
def token(app, installed):
    return make_app_user(app)


@pytest.fixture
def server(app):
    with live_server(app) as url:
        yield url


@pytest.fixture
def phone(server, token):
    return Collect(f"{server}/v1/key/{token}/projects/1")


def counts(app) -> dict[str, int]:
    """How many rows of each kind a submission can leave."""
    with app.app_context():
        return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in (
            ("openrosa", OpenRosaSubmission), ("submissions", Submission),
            ("revisions", SubmissionRevision), ("quarantined", QuarantinedSubmission))}


def fill(xform: str, docs: list[dict], attachments: dict[str, str], form) -> list[dict]:
    """Fill a form with ODK's engine, once per answer document; return the engine's results."""
    from tests.odk.paths import instance_answers

    cases = [{"id": i, "answers": instance_answers(form, doc)} for i, doc in enumerate(docs)]
    return odk_engine.evaluate(xform, cases, attachments)
