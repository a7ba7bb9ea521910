"""The real server on loopback: `flask demo` then `flask run`, as `make run` does, over real HTTP."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import backend

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json",
                                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


@pytest.fixture
def served(tmp_path):
    if backend() != "sqlite":
        pytest.skip("`make run` serves the embedded SQLite database; PostgreSQL is covered in-process")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRY_", "FLASK_"))}
    env["FERRY_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["FERRY_DEMO_INTERVIEWS"] = "200"  # the full season's load time: tests/bench/bench_demo.py
    demo = subprocess.run([FLASK, "--app", "server", "demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    port = _free_port()
    server = subprocess.Popen([FLASK, "--app", "server", "run", "--host", "127.0.0.1", "--port",
                               str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        yield base, demo.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_demo_server_answers_health_login_and_places(served):
    base, demo_output = served
    status, _, body = _request(base + "/healthz")
    assert (status, body["status"]) == (200, "ok")
    line = next(line for line in demo_output.splitlines() if "demo-analyst" in line)
    username, password = line.split()[:2]
    status, _, token = _request(base + "/api/v1/auth/token", {"username": username, "password": password})
    assert status == 201
    status, _, places = _request(base + "/api/v1/places",
                                 headers={"Authorization": f"Bearer {token['token']}"})
    assert status == 200 and len(places["districts"]) == 9
    status, headers, problem = _request(base + "/api/v1/places")
    assert status == 401 and headers["Content-Type"] == "application/problem+json"
    assert problem["code"] == "unauthenticated"
