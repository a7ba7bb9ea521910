"""Analysis-ready respondents: written by the SQL store as heads are saved, read back as tidy frames."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from analysis import tidy
from analysis.simulation import generate
from analysis.weights import design_weights
from server.extensions import db
from server.forms import registry as form_registry
from server.models import Respondent
from server.models import Submission
from server.reports import data as analysis_data
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
    from server.models.errors import ServerError

    with app.app_context(), pytest.raises(ServerError) as info:
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


def test_the_column_reader_keeps_commit_order_missing_values_and_extra_answers(app, store):
    """Rows out of seq order across rounds come back in seq order; NULL as None or NaN; extra as dicts."""
    rows = [  # (id, seq, round, commune, consented, sex, age, extra)
        ("c", 30, 2018, "31117", True, "female", 41, {"note": "x\u00e9\"y", "n": 2}),
        ("a", 10, 2017, None, False, None, None, None),
        ("d", 40, None, "31117", True, "male", None, None),
        ("b", 20, 2018, "31117", True, None, 19, None),
    ]
    with app.app_context():
        for sub_id, seq, round_, commune, consented, sex, age, extra in rows:
            # a row is its head's (a foreign key on seq)
            db.session.add(Submission(id=sub_id, form_id="awareness", form_version="2017.1", device_id="d",
                                      head=f"op-{sub_id}", revisions=1, deleted=False, seq=seq))
            db.session.add(Respondent(
                submission_id=sub_id, form_id="awareness", form_version="2017.1", seq=seq, round=round_,
                district_code=None if commune is None else "916", commune_key=commune, consented=consented,
                sex=sex, age=age, extra=extra, points=bytes([0, 0, 128, 63]) * 2, choices=bytes([1, 2])))
        db.session.commit()
        fetched = analysis_data._fetch(db.session, "awareness", None)
    assert list(fetched) == ["2017.1"]
    columns = fetched["2017.1"]
    assert columns["submission_id"].tolist() == ["a", "b", "c", "d"]
    assert columns["commune_key"].tolist() == [None, "31117", "31117", "31117"]
    assert columns["sex"].tolist() == [None, None, "female", "male"]
    assert columns["consented"].tolist() == [False, True, True, True]
    assert columns["age"].tolist()[1:3] == [19.0, 41.0] and pd.isna(columns["age"][[0, 3]]).all()
    assert columns["round"].tolist()[:3] == [2017.0, 2018.0, 2018.0] and pd.isna(columns["round"][3])
    assert columns["extra"].tolist() == [None, None, {"note": "x\u00e9\"y", "n": 2}, None]
    assert columns["points"].view("<f4").tolist() == [[1.0, 1.0]] * 4
    assert columns["choices"].tolist() == [[1, 2]] * 4
