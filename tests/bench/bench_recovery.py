"""Benchmark: coverage of the reports' 95% intervals on generated seasons with known truth.

Run: python tests/bench/bench_recovery.py [--seeds 50] [--interviews 8000] [--first-seed 0] [--conventions]

For each seed, a season of ``--interviews`` awareness submissions (default 8,000 over the four
rounds 2017–2020: 2,000 a round, 36 communes a round, about 55 approached per commune) goes
through the reports' own path (``tests/analysis/recovery.py`` has the details): tidy → weights →
``analysis.gap_report.build_gap_report`` for each round, previous = the round before. The
intervals checked are the report's tables as built: ``levels`` (round × district and the city),
``groups`` (round × the six target groups the truth defines) and ``did`` (communes reached by
commune-level outreach since the previous round vs the others: 2017→2018 and 2018→2019; no
campaign runs in 2020, so that report has no DiD), for knowledge, ``aware_signs_3`` and
``hotline_aware`` (the DiD is of knowledge, as in the report). About 6 s a seed on one core.

Printed: per indicator × level and for the DiD, the coverage of the truth, its number of
intervals ``n``, its Monte Carlo standard error and the band it must lie in, with one ``BENCH``
JSON line each (``ratio`` = coverage / 0.95). The band is 0.95 ± max(0.02, 2 × MC se), the MC se
the larger of the binomial se at the nominal 0.95, sqrt(0.95 × 0.05 / n), and the se of the
observed coverage with seeds as clusters (intervals of one season share its population and
sample). The exit code is 1 if the benchmark could not run, 2 if a coverage lies outside its band.

``--conventions`` also measures the levels and the unadjusted DiD under other design conventions,
through the same functions (``round_levels``, ``did``) with other options: the evidence for the
report's choice (``docs/analysis.md``). It roughly doubles the run time.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

TARGET = 0.95
MIN_BAND = 0.02


def band(covered, seeds) -> dict:
    """Coverage of a set of intervals, its Monte Carlo se (see the module docstring) and its band."""
    n = len(covered)
    coverage = float(covered.mean())
    per_seed = covered.groupby(seeds.to_numpy()).mean()
    clustered = float(per_seed.std(ddof=1) / len(per_seed) ** 0.5) if len(per_seed) > 1 else 0.0
    mc_se = max(math.sqrt(TARGET * (1 - TARGET) / n), clustered)
    half = max(MIN_BAND, 2 * mc_se)
    return {"value": round(coverage, 4), "n": n, "mc_se": round(mc_se, 4), "low": round(TARGET - half, 4),
            "high": round(TARGET + half, 4), "within": bool(TARGET - half <= coverage <= TARGET + half)}


def _bench(name: str, figures: dict) -> str:
    return "BENCH " + json.dumps({"name": name, "value": figures["value"], "unit": "share", "target": TARGET,
                                  "ratio": round(figures["value"] / TARGET, 4), "n": figures["n"],
                                  "mc_se": figures["mc_se"], "band": [figures["low"], figures["high"]],
                                  "within": figures["within"]})


def _line(label, figures, extra=""):
    mark = "ok" if figures["within"] else "OUTSIDE"
    return (f"{label:<34} coverage {figures['value']:.3f} of n = {figures['n']:>5} "
            f"(MC se {figures['mc_se']:.3f}, band {figures['low']:.3f}–{figures['high']:.3f}: {mark}){extra}")


def report(out, seeds: int, interviews: int, seconds: float) -> tuple[list[str], list[str], bool]:
    """Printed lines, BENCH lines and whether every coverage lies in its band."""
    cells, dids = out["cells"], out["dids"]
    lines = [f"coverage of the reports' 95% intervals: {seeds} seeds × {interviews:,} interviews (4 rounds), "
             f"{seconds:.0f} s"]
    benches, ok = [], True
    for level in ("district", "city", "group"):
        for indicator in ("knowledge", "aware_signs_3", "hotline_aware"):
            part = cells[(cells["level"] == level) & (cells["indicator"] == indicator)]
            figures = band(part["covered"], part["seed"])
            ratio = float((part["error"] ** 2).mean() / (part["se"] ** 2).mean())
            lines.append(_line(f"{level} × round, {indicator}", figures,
                               f"; bias {part['error'].mean():+.4f}, MSE / mean var {ratio:.2f}, "
                               f"df {int(part['df'].min())}–{int(part['df'].max())}"))
            benches.append(_bench(f"analysis.recovery.{level}.{indicator}.coverage", figures))
            ok &= figures["within"]
    for model in ("unadjusted", "adjusted"):
        part = dids[dids["model"] == model]
        figures = band(part["covers_effect"], part["seed"])
        to_target = part["estimate"] - part["pop_did"]
        lines.append(_line(f"report's DiD ({model}), true effect", figures,
                           f"; of the score-scale DiD target {float(part['covers_pop_did'].mean()):.3f}"))
        for post, one in part.groupby("post"):
            lines.append(f"  post {post}: {int(one['covers_effect'].sum())}/{len(one)}; mean effect "
                         f"{one['effect'].mean():.4f}, bias {(one['estimate'] - one['effect']).mean():+.4f}, "
                         f"trend gap max |.| {one['trend_gap'].abs().max():.5f}; sd of (estimate − target) "
                         f"{(one['estimate'] - one['pop_did']).std(ddof=1):.4f} vs mean se "
                         f"{one['se'].mean():.4f}")
        lines.append(f"  both: sd of (estimate − target) {to_target.std(ddof=1):.4f} vs mean se "
                     f"{part['se'].mean():.4f}")
        benches.append(_bench(f"analysis.recovery.did_{model}.coverage", figures))
        ok &= figures["within"]
    if "conv_levels" in out:
        lines += conventions(out["conv_levels"], out["conv_dids"])
    return lines, benches, ok


def conventions(levels, dids) -> list[str]:
    """Coverage of the levels and the unadjusted DiD under each convention (diagnostics)."""
    lines = ["", "other design conventions (same estimates, other variance / df): coverage"]
    header = f"{'convention':<42}" + "".join(f"{level[:4]}:{ind[:9]:<10}" for level in ("district", "city")
                                              for ind in ("knowledge", "aware_signs_3", "hotline_aware"))
    lines.append(header + "DiD")
    for name, part in levels.groupby("convention", sort=False):
        cells = []
        for level in ("district", "city"):
            for indicator in ("knowledge", "aware_signs_3", "hotline_aware"):
                sub = part[(part["level"] == level) & (part["indicator"] == indicator)]
                cells.append(f"{sub['covered'].mean():<15.3f}")
        did = dids[dids["convention"] == name]
        lines.append(f"{name:<42}" + "".join(cells) + f"{did['covered'].mean():.3f}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--interviews", type=int, default=8000)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--conventions", action="store_true")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    try:
        from tests.analysis.recovery import run

        start = time.perf_counter()
        out = run(range(args.first_seed, args.first_seed + args.seeds), args.interviews,
                  conventions=args.conventions)
        seconds = time.perf_counter() - start
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1
    lines, benches, ok = report(out, args.seeds, args.interviews, seconds)
    print("\n".join(lines + benches))
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
