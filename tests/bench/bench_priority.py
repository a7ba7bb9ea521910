"""Benchmark: the priority ranking's uncertainty against the exact truth of generated seasons.

Run: python tests/bench/bench_priority.py [--seeds 20] [--interviews 8000] [--first-seed 0] [--year 2019]

For each seed, a generated season (``analysis.simulation.generate``, four rounds) goes through tidy →
weights → :func:`analysis.priority.place_estimates` for round ``--year`` (districts and all 85
communes, the figures and standard errors the ranking draws from), and is compared with
``season.truth``:

* district intervals: coverage of the true knowledge score and hotline awareness by the place
  table's 95% intervals (the reports' design convention, :func:`analysis.levels.report_design`);
* the ranking: the generator has no truth for the share at risk, so the need is ranked on knowledge
  alone (``risk`` set to 1 with no error): need = adults × outreach discount × (1 − knowledge), with
  :func:`analysis.priority.rank_by_need` as the reports call it (k = 10 communes, 3 districts). The
  true top k are the places with the largest need computed from the true knowledge. Printed: the
  share of the true top k that the tiers put in ``highest`` or ``high``, the share of places put in
  ``highest`` that are truly in the top k, and the calibration of P(top k): places grouped by their
  P(top k), the mean P(top k) against the share truly in the top k (equal when calibrated), with
  the Brier score.

``BENCH`` lines: district coverages (target 0.95) and the true top k's share in the top tiers
(target 1). Exits non-zero only if it could not run. About 4 s a seed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

BINS = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0001)


def _bench(name: str, value: float, unit: str, target: float, n: int) -> str:
    return "BENCH " + json.dumps({"name": name, "value": round(value, 4), "unit": unit, "target": target,
                                  "ratio": round(value / target, 4), "n": n, "baseline": None})


def run_seed(seed: int, interviews: int, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """District interval rows and ranked places (both levels) of one seed, each with its truth."""
    from analysis import tidy
    from analysis.priority import NeedParameters
    from analysis.priority import place_estimates
    from analysis.priority import rank_by_need
    from analysis.simulation import generate
    from tests.analysis.recovery import ROUNDS
    from tests.analysis.recovery import activities
    from tests.analysis.recovery import analysis_frame

    season = generate(seed=seed, interviews=interviews, rounds=ROUNDS)
    frame = analysis_frame(season)
    exposure = tidy.exposure(activities(season), rounds=[r for r in ROUNDS if r <= year])
    params = NeedParameters()
    truth = {"district": season.truth["district"], "commune": season.truth["commune"]}
    intervals, ranked = [], []
    for level, keys, k in (("district", ["district_code"], 3), ("commune", ["commune_key"], 10)):
        places = place_estimates(frame, exposure, year=year, level=level, params=params)
        true = truth[level][truth[level]["round"] == year].set_index(keys[0])
        if level == "district":
            for name, column in (("knowledge", "knowledge"), ("hotline", "hotline_aware")):
                t = places["district_code"].map(true[column])
                intervals.append(pd.DataFrame({"indicator": name, "truth": t, "low": places[f"{name}_low"],
                                               "high": places[f"{name}_high"], "df": places[f"{name}_df"]}))
        gap = places.assign(risk=1.0, risk_se=0.0)
        if "risk_df" in gap.columns:
            gap["risk_df"] = np.nan
        out = rank_by_need(gap, k=k, params=params, seed=seed, level=level)
        out["true_need"] = out["population"] * out["discount"] * (1 - out[keys[0]].map(true["knowledge"]))
        out["true_top"] = out["true_need"].rank(ascending=False, method="first") <= k
        ranked.append(out[["tier", "p_top_k", "true_top"]].assign(level=level))
    return (pd.concat(intervals, ignore_index=True).assign(seed=seed),
            pd.concat(ranked, ignore_index=True).assign(seed=seed))


def report(intervals, ranked, seeds, seconds) -> list[str]:
    """Printed lines and BENCH lines of a run."""
    lines = [f"priority uncertainty vs truth: {seeds} seeds, {seconds:.0f} s"]
    benches = []
    intervals = intervals.assign(covered=(intervals["low"] <= intervals["truth"])
                                 & (intervals["truth"] <= intervals["high"]))
    for name, part in intervals.groupby("indicator", sort=False):
        per_seed = part.groupby("seed")["covered"].mean()
        mc = per_seed.std(ddof=1) / len(per_seed) ** 0.5 if len(per_seed) > 1 else float("nan")
        lines.append(f"district × {name}: 95% intervals cover the truth {part['covered'].mean():.3f} of "
                     f"{len(part)} (MC se {mc:.3f}; df {int(part['df'].min())}–{int(part['df'].max())})")
        benches.append(_bench(f"analysis.priority.district.{name}.coverage", float(part["covered"].mean()),
                              "share", 0.95, len(part)))
    for level, part in ranked.groupby("level", sort=False):
        top = part[part["true_top"]]
        in_tiers = float(top["tier"].isin(["highest", "high"]).mean())
        highest = part[part["tier"] == "highest"]
        precision = float(highest["true_top"].mean()) if len(highest) else float("nan")
        brier = float(((part["p_top_k"] - part["true_top"]) ** 2).mean())
        lines.append(f"{level}: true top k in the highest or high tier {in_tiers:.3f} of {len(top)}; "
                     f"'highest' places truly in the top k {precision:.3f} of {len(highest)}; "
                     f"Brier {brier:.4f}")
        bins = pd.cut(part["p_top_k"], BINS, right=False)
        table = part.groupby(bins, observed=True).agg(places=("p_top_k", "size"), mean_p=("p_top_k", "mean"),
                                                      share_top=("true_top", "mean"))
        for interval, row in table.iterrows():
            lines.append(f"  P(top k) in {interval}: {int(row['places']):>5} places, "
                         f"mean P {row['mean_p']:.3f}, truly in the top k {row['share_top']:.3f}")
        benches.append(_bench(f"analysis.priority.{level}.true_top_in_top_tiers", in_tiers, "share", 1.0,
                              len(top)))
    return lines + benches


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--interviews", type=int, default=8000)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--year", type=int, default=2019)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    try:
        start = time.perf_counter()
        parts = [run_seed(s, args.interviews, args.year) for s in range(args.first_seed,
                                                                       args.first_seed + args.seeds)]
        seconds = time.perf_counter() - start
        intervals = pd.concat([p[0] for p in parts], ignore_index=True)
        ranked = pd.concat([p[1] for p in parts], ignore_index=True)
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1
    print("\n".join(report(intervals, ranked, args.seeds, seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
