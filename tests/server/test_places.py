"""Places: the 2019 unit list loaded from the copy shipped in the project, and its API."""

from sqlalchemy import func
from sqlalchemy import select

from server.extensions import db
from server.models import Commune
from server.models import District
from server.models import DistrictAgePopulation
from server.models import Round
from server.models import reference
from tests.problem_shape import assert_problem


def test_places_loaded_once(app, places):
    with app.app_context():
        assert db.session.scalar(select(func.count(District.id))) == 9
        assert db.session.scalar(select(func.count(Commune.id))) == 85
        assert db.session.scalar(select(func.sum(Commune.population_2019))) == 1_235_171
        kinds = dict(db.session.execute(select(District.kind, func.count()).group_by(District.kind)).all())
        assert kinds == {"urban": 5, "rural": 4}
        assert db.session.scalar(select(func.count(DistrictAgePopulation.id))) == 9 * 18
        # Loading again changes nothing.
        reference.load_places(db.session)
        db.session.commit()
        assert db.session.scalar(select(func.count(Commune.id))) == 85


def test_commune_keys_are_unique_even_where_gso_codes_are_not(app, places):
    with app.app_context():
        keys = db.session.scalars(select(Commune.key)).all()
        assert len(set(keys)) == 85
        thanh_an = db.session.scalars(select(Commune).where(Commune.code == "31240")).all()
        assert sorted(c.key for c in thanh_an) == ["31240-commune", "31240-town"]
        no_code = db.session.scalars(select(Commune.key).where(Commune.code.is_(None))).all()
        assert sorted(no_code) == ["916-an-cu", "916-an-hoi", "916-an-lac", "916-an-nghiep",
                                   "916-an-phu"]


def test_rounds_default_to_2017_baseline_and_follow_ups(app, places):
    with app.app_context():
        rounds = db.session.scalars(select(Round).order_by(Round.year)).all()
        assert [(r.year, r.kind) for r in rounds] == [
            (2017, "baseline"), (2018, "follow-up"), (2019, "follow-up"), (2020, "follow-up")]
        reference.ensure_rounds(db.session, [2021])
        db.session.commit()
        assert db.session.scalar(select(Round.kind).where(Round.year == 2021)) == "follow-up"


def test_places_api_lists_districts_with_communes(client, places, accounts):
    response = client.get("/api/v1/places", headers=accounts.headers("analyst"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["code"] == "cantho-2019"
    assert len(body["districts"]) == 9
    assert sum(d["population"] for d in body["districts"]) == 1_235_171
    ninh_kieu = next(d for d in body["districts"] if d["code"] == "916")
    assert ninh_kieu["name"] == "Ninh Kiều" and ninh_kieu["kind"] == "urban"
    assert {"key", "code", "name", "kind", "population"} <= set(ninh_kieu["communes"][0])
    assert sum(len(d["communes"]) for d in body["districts"]) == 85


def test_places_api_for_devices_too(client, places, accounts):
    _, headers = accounts.device()
    assert client.get("/api/v1/places", headers=headers).status_code == 200


def test_places_api_before_init_is_a_clear_problem(client, accounts):
    assert_problem(client.get("/api/v1/places", headers=accounts.headers("planner")), 404, "not-found")
