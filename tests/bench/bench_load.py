"""Benchmark: 200 devices pushing to Ferry under gunicorn on 127.0.0.1 (targets: 0 errors, 0 lost).

Each run makes a fresh instance (SQLite by default; with ``FERRY_BENCH_DATABASE_URL`` naming a PostgreSQL
server, a fresh database beside the one it names, dropped after the run),
enrols ``DEVICES`` devices of 50 enumerators, starts gunicorn (``WORKERS`` workers × ``THREADS``
threads), and lets every device push batches of ``BATCH`` new submissions as fast as the server answers,
for ``SECONDS`` seconds, backing off by ``Retry-After`` when the server sheds load (429/503), as
devices do. It then counts, in the database, the submissions the devices were told were ``created``.

Reported per run and as the median of ``RUNS`` runs: throughput (submissions stored per second),
p99 latency of a push, errors (a 5xx, a network failure, an answer that is not a push result or a
result that is not ``created``/``duplicate``) and lost submissions (acknowledged but not stored). Shed
requests (429/503, or ``retry`` results: the batch is re-sent unchanged, as the protocol says) are
counted apart: they are the server protecting itself, not errors.

Run: python tests/bench/bench_load.py   (env: BENCH_DEVICES, BENCH_SECONDS, BENCH_RUNS)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DEVICES = int(os.environ.get("BENCH_DEVICES", 200))
SECONDS = float(os.environ.get("BENCH_SECONDS", 20))
RUNS = int(os.environ.get("BENCH_RUNS", 3))
WORKERS, THREADS, BATCH = 2, 16, 5
ENUMERATORS = 50
REFUSAL = {"round": "2019", "consent": "no"}


def prepare(database_url: str, instance: str) -> list[tuple[str, str]]:
    """Create the schema, the forms and ``DEVICES`` enrolled devices; return (device_id, token) pairs."""
    from server import create_app
    from server.accounts import users as accounts
    from server.accounts.secrets import issue_token
    from server.cli.commands import initialise
    from server.extensions import db

    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": instance, "SECRET_KEY": "bench"})
    devices = []
    with app.app_context():
        initialise()
        names = [accounts.create_user(db.session, f"enum{i:03d}", "bench password 1", "enumerator").username
                 for i in range(ENUMERATORS)]
        db.session.commit()
        for i in range(DEVICES):
            device, _ = accounts.enroll_device(db.session, names[i % ENUMERATORS], f"phone {i}",
                                               dt.timedelta(hours=1))
            secret, _ = issue_token(device=device)
            devices.append((str(device.id), secret))
        db.session.commit()
        db.engine.dispose()
    return devices


def form_version() -> str:
    from forms import library

    return library.load("awareness").version


class Tally:
    """What the devices saw, shared by their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.created: list[str] = []
        self.errors: list[str] = []
        self.shed = 0

    def add(self, **kwargs) -> None:
        with self.lock:
            if "latency" in kwargs:
                self.latencies.append(kwargs["latency"])
            self.created.extend(kwargs.get("created", ()))
            if "error" in kwargs:
                self.errors.append(kwargs["error"])
            self.shed += kwargs.get("shed", 0)


def device_loop(url: str, device_id: str, token: str, version: str, stop_at: float, tally: Tally) -> None:
    """Push new submissions until ``stop_at``; every batch is re-sent unchanged until it is answered."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    while time.monotonic() < stop_at:
        ops = [{"id": str(uuid.uuid4()), "kind": "create", "sub": str(uuid.uuid4()), "form": "awareness",
                "ver": version, "ans": REFUSAL} for _ in range(BATCH)]
        body = json.dumps({"protocol": 1, "device_id": device_id, "ops": ops}).encode()
        while True:  # the same batch until the server answers it (retries are deduplicated by op id)
            started = time.monotonic()
            request = urllib.request.Request(url + "/api/v1/sync/push", data=body, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    results = json.loads(answer.read())["results"]
            except urllib.error.HTTPError as exc:
                if exc.code in (429, 503):
                    tally.add(shed=1)
                    # Retry-After, capped for the bench, with per-device jitter as devices do
                    wait = min(float(exc.headers.get("Retry-After", 1)), 2)
                    time.sleep(wait * (0.5 + hash(device_id) % 50 / 100))
                    continue
                tally.add(error=f"HTTP {exc.code}")
                return
            except (OSError, ValueError, KeyError) as exc:
                tally.add(error=f"{type(exc).__name__}: {exc}")
                return
            latency = time.monotonic() - started
            statuses = {r.get("status") for r in results}
            if "retry" in statuses and statuses <= {"created", "duplicate", "retry", "not-processed"}:
                # the protocol's transient answer: keep the batch and send it again after retry_after
                tally.add(latency=latency, shed=1)
                time.sleep(1)
                continue
            if statuses - {"created", "duplicate"} or len(results) != len(ops):
                tally.add(latency=latency, error=f"unexpected results {sorted(map(str, statuses))}")
                return
            tally.add(latency=latency, created=[op["sub"] for op in ops])
            break


def stored(database_url: str, instance: str, subs: list[str]) -> int:
    """Count how many of ``subs`` the database holds."""
    import sqlalchemy as sa

    from server import create_app
    from server.extensions import db
    from server.models import Submission

    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": instance, "SECRET_KEY": "bench"})
    with app.app_context():
        found = set(db.session.scalars(sa.select(Submission.id)))
        db.engine.dispose()
    return sum(1 for s in subs if s in found)


@contextmanager
def database(instance: str):
    """Yield a fresh database's URL: a SQLite file in ``instance``, or a new PostgreSQL database."""
    server = os.environ.get("FERRY_BENCH_DATABASE_URL")
    if not server:
        yield f"sqlite:///{instance}/ferry.sqlite"
        return
    os.environ["FERRY_TEST_DATABASE_URL"] = server  # where the test helpers make databases
    from tests.conftest import create_postgres_database
    from tests.conftest import drop_postgres_database

    url = create_postgres_database("ferry_bench_load")
    try:
        yield url
    finally:
        drop_postgres_database(url)


def run_once() -> dict:
    from tests.security.gunicorn_server import gunicorn

    with tempfile.TemporaryDirectory(prefix="ferry-bench-load-") as instance, \
            database(instance) as database_url:
        devices = prepare(database_url, instance)
        version = form_version()
        tally = Tally()
        with gunicorn(database_url, Path(instance), workers=WORKERS, threads=THREADS) as url:
            started = time.monotonic()
            stop_at = started + SECONDS
            threads = [threading.Thread(target=device_loop, args=(url, d, t, version, stop_at, tally))
                       for d, t in devices]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
        kept = stored(database_url, instance, tally.created)
    latencies = sorted(tally.latencies)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else float("nan")
    return {"throughput": len(tally.created) / elapsed, "p99_ms": p99 * 1000, "errors": len(tally.errors),
            "lost": len(tally.created) - kept, "acknowledged": len(tally.created), "shed": tally.shed,
            "pushes": len(latencies), "first_errors": tally.errors[:3]}


def bench(name, value, unit, target, ratio) -> None:
    print("BENCH " + json.dumps({"name": name, "value": round(value, 3), "unit": unit, "target": target,
                                 "ratio": ratio}))


def main() -> int:
    runs = []
    try:
        for i in range(RUNS):
            result = run_once()
            runs.append(result)
            print(f"run {i + 1}: {result['throughput']:.0f} submissions/s, p99 {result['p99_ms']:.0f} ms, "
                  f"{result['pushes']} pushes, {result['acknowledged']} acknowledged, "
                  f"{result['errors']} errors {result['first_errors']}, {result['lost']} lost, "
                  f"{result['shed']} shed (429/503, retried)")
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1
    throughput = statistics.median(r["throughput"] for r in runs)
    p99 = statistics.median(r["p99_ms"] for r in runs)
    errors, lost = sum(r["errors"] for r in runs), sum(r["lost"] for r in runs)
    print(f"{DEVICES} devices, {SECONDS:.0f} s, gunicorn {WORKERS}×{THREADS}, median of {RUNS}: "
          f"{throughput:.0f} submissions/s, p99 {p99:.0f} ms; {errors} errors, {lost} lost in all runs")
    bench("load_throughput", throughput, "submissions/s", None, None)
    bench("load_p99_latency", p99, "ms", None, None)
    bench("load_errors", errors, "count", 0, None if errors else 1.0)
    bench("load_lost_submissions", lost, "count", 0, None if lost else 1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
