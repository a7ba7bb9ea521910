"""Ferry under gunicorn on 127.0.0.1, as production serves it: for what a werkzeug server would hide."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(database_url: str, instance: Path, *, workers: int = 1, threads: int = 4, timeout_s: float = 120,
             **settings):
    """Serve ``server.wsgi:app`` on ``database_url`` with gunicorn; yield its base URL; stop it after."""
    port = free_port()
    env = {**os.environ, "FERRY_DATABASE_URL": database_url, "FERRY_INSTANCE_PATH": str(instance),
           "FERRY_SECRET_KEY": "test", **{f"FERRY_{k}": str(v) for k, v in settings.items()}}
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
               "-b", f"127.0.0.1:{port}", "--log-level", "warning", "server.wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
