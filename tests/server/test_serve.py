"""``make serve``, the production start: gunicorn on the configured address, one sync worker per core."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from server.extensions import db
from server.forms import registry as form_registry

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _installed_stamp() -> str:
    # make serve installs first (like make run); the venv running this test is installed already.
    checksum = subprocess.run(["cksum", "requirements.txt"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.split()[0]
    return f".venv/.installed-{checksum}"


def _request(url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json",
                                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_make_serve_starts_gunicorn_workers_that_serve_sync(app, accounts, tmp_path):
    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()
    device_id, headers = accounts.device()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRY_", "FLASK_"))}
    env.update(FERRY_DATABASE_URL=app.config["DATABASE_URL"], FERRY_INSTANCE_PATH=str(tmp_path / "serve"),
               FERRY_SECRET_KEY="test", PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")
    server = subprocess.Popen(["make", "--no-print-directory", "-o", _installed_stamp(), "serve",
                               "HOST=127.0.0.1", f"PORT={port}", "WORKERS=2"],
                              cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, health = _request(f"{base}/healthz")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.3)
        assert status == 200, health
        workers = subprocess.run(["pgrep", "-f", "-g", str(server.pid), "gunicorn"], capture_output=True,
                                 text=True).stdout.split()
        assert len(workers) == 3, workers  # the arbiter and WORKERS=2 sync workers
        op = {"id": str(uuid.uuid4()), "kind": "create", "sub": str(uuid.uuid4()), "form": "awareness",
              "ver": "2017.1", "ans": {"round": "2017", "consent": "no"}}
        status, answer = _request(f"{base}/api/v1/sync/push", {"protocol": 1, "device_id": str(device_id),
                                                              "ops": [op]}, headers)
        assert status == 200, answer
        assert [r["status"] for r in answer["results"]] == ["created"], answer
        status, problem = _request(f"{base}/api/v1/sync/push", {"protocol": 1, "ops": []})
        assert status == 401 and problem["code"] == "unauthenticated"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server.stdout.close()


def test_the_production_entry_point_freezes_what_a_worker_loaded_and_collects_less_often(tmp_path):
    # server.wsgi freezes the worker's start-up heap, so the cyclic collector's full passes skip it (issue 13:
    # ~2.5 ms of a push of 100). Checked in a fresh process, as a gunicorn worker imports it.
    # Its young passes run every 10,000 objects, not 700 (server/wsgi.py).
    code = "import gc, server.wsgi; print(gc.get_threshold()[0]); print(gc.get_freeze_count())"
    env = {**os.environ, "FERRY_DATABASE_URL": f"sqlite:///{tmp_path / 'ferry.sqlite'}",
           "FERRY_INSTANCE_PATH": str(tmp_path / "instance"), "FERRY_SECRET_KEY": "test"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    threshold, frozen = (int(line) for line in out.stdout.strip().splitlines()[-2:])
    assert frozen > 100_000, out.stdout
    assert threshold == 10_000, out.stdout
