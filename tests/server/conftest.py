"""Fixtures of the server tests: a SQL store with the built-in forms, and submissions written through it."""

from __future__ import annotations

import pytest

from server.extensions import db
from server.forms import registry as form_registry
from server.models import utcnow
from server.sync.store import SqlStore
from sync import submissions
from sync.store import Revision
from sync.store import SubmissionHead


@pytest.fixture
def store(app):
    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()
        engine = db.engine
    yield SqlStore(engine)
    engine.dispose()


def write(store, sub_id, answers, *, op_id=None, form_id="awareness", version="2017.1", deleted=False,
          number=1):
    """Store one revision, make it the head and save its analysis row, as the sync engine does."""
    op_id = op_id or f"op-{sub_id}"
    kind = "delete" if deleted else ("create" if number == 1 else "edit")
    with store.transaction():
        seq = store.next_seq()
        store.insert_revision(Revision(
            op_id=op_id, submission_id=sub_id, number=number, device_id="dev", kind=kind, base=None,
            form_id=form_id, form_version=version, answers=None if deleted else answers, received_at=utcnow(),
            seq=seq, device_time=None, skew_s=None, blobs=(), note=None))
        head = SubmissionHead(id=sub_id, form_id=form_id, form_version=version, device_id="dev", head=op_id,
                              revisions=number, deleted=deleted, seq=seq)
        store.save_submission(head)
        store.save_analysis_row(sub_id, submissions.analysis_row(store, head, None if deleted else answers))


def ingest(store, interviews):
    for interview in interviews:
        write(store, interview.sub_id, interview.answers, version=interview.version)


def ingest_season(store, season):
    """Store a generated season's interviews and its outreach log."""
    ingest(store, season.interviews)
    for activity in season.activities:
        write(store, activity.sub_id, activity.answers, form_id=activity.form_id, version=activity.version)


