"""The app factory: defaults, instance folder, FERRY_* variables, test config."""

from server import create_app


def test_defaults_are_not_testing_and_use_sqlite_in_instance(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert not app.testing
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/ferry.sqlite"
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024
    assert app.config["ROUNDS"] == [2017, 2018, 2019, 2020]


def test_test_config_wins(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True, "ROUNDS": [2021]})
    assert app.testing
    assert app.config["ROUNDS"] == [2021]


def test_instance_config_then_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('SECRET_KEY = "from-instance"\nUSER_TOKEN_HOURS = 3\n')
    monkeypatch.setenv("FERRY_USER_TOKEN_HOURS", "5")
    monkeypatch.setenv("FERRY_DATABASE_URL", "postgresql://u@db.example/ferry")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-instance"
    # Environment variables are parsed as JSON and override the instance file.
    assert app.config["USER_TOKEN_HOURS"] == 5
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/ferry"


def test_instance_path_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FERRY_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    app = create_app()
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere").is_dir()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    from sqlalchemy import text

    from server.extensions import db
    from tests.conftest import backend

    if backend() != "sqlite":
        import pytest

        pytest.skip("SQLite pragmas apply to the SQLite backend only")
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            # FULL: a commit, and so an acknowledged submission, survives a power cut (NORMAL may lose the
            # last commits, and a device deletes nothing it sent but re-sends only after an epoch change)
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2
            # SQLite's own checkpoint (inside a COMMIT, holding the write lock) only as a safety net: the sync
            # store checkpoints after its write turns, and under sustained pushes the WAL does not start over
            # until a pause, so a lower threshold is reached mid-burst (docs/operations.md)
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 100000


def test_a_secret_key_is_generated_once_and_kept_in_the_instance_folder(tmp_path):
    import stat

    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    key = first.config["SECRET_KEY"]
    assert key and key != "dev" and len(key) >= 32
    path = tmp_path / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"] == key
    assert create_app({"INSTANCE_PATH": str(tmp_path / "other")}).config["SECRET_KEY"] != key


def test_a_configured_secret_key_wins_and_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FERRY_SECRET_KEY", "from-the-environment-" + "x" * 20)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"].startswith("from-the-environment-")
    assert not (tmp_path / "secret_key").exists()


def test_session_cookie_defaults(tmp_path):
    import datetime as dt

    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.permanent_session_lifetime == dt.timedelta(hours=8)
