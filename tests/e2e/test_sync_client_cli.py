"""A field laptop's whole day with `python -m sync.client` against the real server over HTTP."""

import json
import subprocess
import sys
from pathlib import Path

from server.accounts.users import enroll_device
from server.extensions import db
from server.forms import registry as form_registry
from tests.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]


def _client(*args, db_path):
    result = subprocess.run([sys.executable, "-m", "sync.client", "--db", str(db_path), "--timeout", "20",
                             *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


def test_enrol_queue_sync_status(app, accounts, places, tmp_path):
    import datetime as dt

    username, _, _ = accounts.user("enumerator")
    with app.app_context():
        form_registry.install_library(db.session)
        version = form_registry.library.load("awareness").version
        _, code = enroll_device(db.session, username, "laptop", dt.timedelta(hours=1))
        db.session.commit()
    refusal, invalid = tmp_path / "refusal.json", tmp_path / "invalid.json"
    refusal.write_text(json.dumps({"round": "2019", "consent": "no"}))
    invalid.write_text(json.dumps({"round": "2019", "consent": "perhaps"}))
    outbox = tmp_path / "outbox.sqlite"
    with live_server(app) as url:
        # Interviews are queued offline, before the laptop ever reached the server.
        status, out, err = _client("queue", "--form", "awareness", "--version", version, str(refusal),
                                   str(invalid), db_path=outbox)
        assert status == 0, err
        assert len(json.loads(out)["queued"]) == 2
        status, out, err = _client("enrol", "--server", url, "--code", code, db_path=outbox)
        assert status == 0, err
        status, out, err = _client("sync", db_path=outbox)
        assert status == 0, err
        status, out, err = _client("status", db_path=outbox)
        report = json.loads(out)
        assert report["pending"] == 0
        assert report["archived"] == {"created": 1, "quarantined": 1}
        assert report["problems"][0]["reasons"][0]["pointer"] == "/consent"
        # A used code fails cleanly on another installation (the same one retrying gets its answer again:
        # retry-safe enrolment, docs/protocol.md).
        status, _, err = _client("enrol", "--server", url, "--code", code, db_path=tmp_path / "other.sqlite")
        assert status == 1 and "sync-not-found" in err
