"""GET /healthz: the database answers and its schema is at the migration head."""

from sqlalchemy import text

from server.extensions import db
from tests.conftest import make_app
from tests.problem_shape import assert_problem


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "schema": "0019"}


def test_schema_behind_the_code(app, client):
    with app.app_context():
        head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        db.session.execute(text("UPDATE alembic_version SET version_num = 'older'"))
        db.session.commit()
    try:
        body = assert_problem(client.get("/healthz"), 503, "schema-outdated")
        assert "flask --app server init" in body["detail"]
    finally:
        with app.app_context():
            # Put back the head it had: on PostgreSQL the next tests share this database.
            db.session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
            db.session.commit()


def test_database_unreachable(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/no/such/folder/ferry.sqlite", tmp_path / "instance")
    response = app.test_client().get("/healthz")
    assert_problem(response, 503, "database-unavailable")
    assert response.headers["Retry-After"] == "30"
