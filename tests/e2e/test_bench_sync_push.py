"""The ingestion benchmark still runs end to end on the suite's database, small: its seeding SQL, both
gunicorn servers and its exactly-once check. Figures are not judged here."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import backend

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tests" / "bench" / "bench_sync_push.py"


def test_the_ingestion_benchmark_seeds_pushes_and_finds_every_submission_stored_once():
    name = backend()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRY_", "FLASK_"))}
    if name != "sqlite":
        env["FERRY_TEST_DATABASE_URL"] = os.environ["FERRY_TEST_DATABASE_URL"]
    done = subprocess.run([sys.executable, str(BENCH), "--backend", name, "--stored", "2000",
                           "--devices", "2", "--batches", "1", "--runs", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"[{name}] 2,000 submissions stored before the run" in done.stdout
    # two devices: two warm-up batches and one timed batch of 100 each, every one created and stored once
    once = rf"\[{name}\] exactly once: 600 pushed, each created, stored once"
    assert re.search(once, done.stdout), done.stdout
    assert f'"name": "sync_push.{name}.ratio_to_bare"' in done.stdout
    # beside each run's ratio, the same comparison by CPU (read, not judged)
    beside = rf"\[{name}\] run 1: .*; ratio \d+\.\d{{3}} \(by CPU \d+\.\d{{3}}\);"
    assert re.search(beside, done.stdout), done.stdout
    assert f'"name": "sync_push.{name}.cpu_ratio_to_bare"' in done.stdout
    if name == "postgresql" and "127.0.0.1" in env["FERRY_TEST_DATABASE_URL"]:
        # the server runs here: its share of the CPU is read from /proc beside the workers' (a timed batch
        # this small may take less than one clock tick of it, so the figure itself may be 0)
        assert re.search(r"PostgreSQL's CPU \d+ µs per submission \(bare endpoint \d+\)", done.stdout), \
            done.stdout
        assert '"name": "sync_push.postgresql.postgresql_cpu"' in done.stdout
