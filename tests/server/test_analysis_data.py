"""Analysis-ready respondents: written by the SQL store as heads are saved, read back as tidy frames."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from analysis import tidy
from analysis.season import generate
from analysis.weights import design_weights
from server import analysis_data
from server import form_registry
from server.extensions import db
from server.models import Respondent
from tests.server.conftest import ingest
from tests.server.conftest import write


@pytest.fixture(scope="module")
def season():
    return generate(7, interviews=700, rounds=(2017, 2018))


def awareness_form(app):
    with app.app_context():
        return form_registry.load_form(form_registry.get_version(db.session, "awareness", "2017.1"))


def test_bulk_load_equals_the_tidy_frame_of_the_json_answers(app, store, season):
    ingest(store, season.interviews)
    form = awareness_form(app)
    expected = tidy.respondents(season.submissions(), form)
    with app.app_context():
        loaded = analysis_data.load_respondents("awareness", "2017.1")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Respondent)) == len(season.interviews)
    assert loaded["form_version"].eq("2017.1").all()
    key = "submission_id"
    expected = expected.sort_values(key).reset_index(drop=True)
    loaded = loaded.sort_values(key).reset_index(drop=True)
    weights = loaded.pop("weight")
    loaded = loaded.drop(columns="form_version")
    assert list(loaded.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(loaded, expected)
    # Refusals carry no commune in these documents, so the weights are those without the counts.
    assert weights.to_numpy() == pytest.approx(design_weights(expected)["weight"].to_numpy())
    assert len(expected) > 400


def test_edits_replace_the_row_and_deletions_remove_it(app, store, season):
    first, second = [i for i in season.interviews if i.answers.get("consent") == "yes"][:2]
    ingest(store, [first, second])
    edited = {**first.answers, "profile": {**first.answers["profile"], "sex": "male", "age": 33}}
    write(store, first.sub_id, edited, op_id="edit-1", number=2)
    write(store, second.sub_id, None, op_id="delete-2", number=2, deleted=True)
    with app.app_context():
        rows = db.session.scalars(sa.select(Respondent)).all()
        assert [(r.submission_id, r.sex, r.age) for r in rows] == [(first.sub_id, "male", 33)]
        frame = analysis_data.load_respondents("awareness", weights=False)
    assert frame["submission_id"].tolist() == [first.sub_id]


def test_forms_without_scoring_keys_have_no_rows(app, store, season):
    activity = season.activities[0]
    write(store, activity.sub_id, activity.answers, form_id=activity.form_id, version=activity.version)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Respondent)) == 0


def test_reindex_rebuilds_the_same_rows(app, store, season):
    ingest(store, season.interviews[:120])
    with app.app_context():
        before = analysis_data.load_respondents("awareness", "2017.1")
        db.session.execute(sa.delete(Respondent))
        assert analysis_data.reindex(db.session) == 120
        db.session.commit()
        after = analysis_data.load_respondents("awareness", "2017.1")
    pd.testing.assert_frame_equal(before.sort_values("submission_id").reset_index(drop=True),
                                  after.sort_values("submission_id").reset_index(drop=True))


def test_unknown_form_is_not_found(app):
    from server.problems import ApiError

    with app.app_context(), pytest.raises(ApiError) as info:
        analysis_data.load_respondents("awareness", "1999.9")
    assert info.value.code == "not-found"


def test_unscorable_answers_are_stored_but_not_indexed(app, store):
    write(store, "odd", {"round": "not-a-year", "consent": "yes"})
    # Longer than the typed column: PostgreSQL would otherwise fail the whole sync transaction.
    write(store, "long", {"round": "2017", "consent": "yes", "profile": {"commune": "x" * 101}})
    write(store, "huge", {"round": str(10**12), "consent": "yes"})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Respondent)) == 0
    with store.snapshot():
        assert store.submission("odd") is not None
        assert store.submission("long") is not None
        assert store.submission("huge") is not None
