"""Benchmark: seconds to generate a season (target: 8,000 interviews ≤ 10 s; 50,000 reported).

Run: python tests/bench/bench_season.py  (prints figures and one BENCH line per figure)
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

RUNS = 3
SIZES = ((8000, 10.0), (50000, 60.0))


def main() -> int:
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    try:
        from analysis.simulation import generate

        generate(seed=1, interviews=400)  # load forms and the census once, outside the timing
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1
    for size, target in SIZES:
        times = []
        for run in range(RUNS):
            start = time.perf_counter()
            generate(seed=run, interviews=size)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(f"season of {size:,} interviews: median {median:.2f} s over {RUNS} runs "
              f"(min {min(times):.2f}, max {max(times):.2f}); target {target:.0f} s")
        print("BENCH " + json.dumps({
            "name": f"analysis.simulation.generate.{size}", "value": round(median, 3), "unit": "s",
            "target": target, "ratio": round(target / median, 3), "baseline": None,
        }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
