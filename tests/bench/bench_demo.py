"""Benchmark: seconds for a fresh `make run` to reach a loaded demo (target ≤ 30 s, issue 13; it was 120 s).

Times `flask --app server demo` exactly as `make run` runs it, from an empty instance folder (a new
SQLite database) with the default season (8,000 interviews plus the outreach log), as a subprocess.
The virtual environment is taken as installed: on a fresh machine `make run` first spends the
install step (pip), which depends on the network and is reported separately, not timed here.

Run: python tests/bench/bench_demo.py  (prints figures and one BENCH line)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 30.0
RUNS = 3
ROOT = Path(__file__).resolve().parents[2]


def flask() -> Path:
    """Return the venv's ``flask``, as `make run` calls it (``.venv/bin/flask``), else the running one."""
    for candidate in (ROOT / ".venv" / "bin" / "flask", Path(sys.executable).parent / "flask"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("no flask executable beside the virtual environment's python")


def run_once(executable: Path) -> tuple[float, str]:
    """Run the demo on a fresh instance folder; return its seconds and its last line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRY_", "FLASK_"))}
    with tempfile.TemporaryDirectory(prefix="ferry-bench-demo-") as instance:
        env["FERRY_INSTANCE_PATH"] = instance
        start = time.perf_counter()
        done = subprocess.run([str(executable), "--app", "server", "demo"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=1800)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"flask demo failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, done.stdout.strip().splitlines()[-1]


def main() -> int:
    try:
        executable = flask()
        times, last = [], ""
        for run in range(RUNS):
            seconds, last = run_once(executable)
            times.append(seconds)
            print(f"run {run + 1}: {seconds:.1f} s")
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1
    median = statistics.median(times)
    print(last)
    print(f"fresh demo load (flask demo, default season): median {median:.1f} s over {RUNS} runs "
          f"(min {min(times):.1f}, max {max(times):.1f}); target {TARGET:.0f} s")
    print("not timed: the install step of a fresh `make run` (venv + pip install -r requirements.txt), "
          "which depends on the network and the package cache")
    print("BENCH " + json.dumps({
        "name": "demo.load", "value": round(median, 1), "unit": "s", "target": TARGET,
        "ratio": round(median / TARGET, 3), "baseline": None,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
