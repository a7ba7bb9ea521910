"""Benchmark: the next round planned from the last one's uncertainty against the fixed design.

Run: python tests/bench/bench_next_round.py [--seeds 50] [--first-seed 0] [--interviews 6000]
     [--max-tilt 3] [--tilt-uncertain 1.5] [--tilt-top 1] [--tilt-model 0.25] [--tilt-reached 1]
     [--tilt-spread 1.5]
     [--take-tilt 1] [--certain-top 0.9] [--district-power 0.5]

For each seed (``tests/analysis/planned.py`` has the path): a season of 2017–2019 (``--interviews``
over the three rounds: 2,000 a round, 36 communes, about 55 approached per commune), the 2018 round
ranked (need on knowledge alone, k = 10), the 2019 round planned from it
(:func:`analysis.next_round.propose` with the tuning flags; ``reached`` = communes with 2019 outreach),
then 2019 drawn twice from the same population: the fixed design and the plan, same interviews, same
visits per district. Both go through the reports' own code (``build_gap_report`` of 2019, previous 2018).

Printed, with a ``BENCH`` line each (``ratio`` = planned / fixed; ``value`` the planned figure,
``baseline`` the fixed one):

* ``true_top_in_highest``: share of the truly ten most-in-need communes that the 2019 tiers put in
  ``highest`` (higher is better);
* mean 95% interval width of the decisions: the communes whose tier was uncertain in 2018 (P(top 10)
  in [0.1, 0.9]), the DiD of newly reached communes (2018→2019, unadjusted), district knowledge, city
  knowledge (lower is better);
* beside each width, the estimates' actual root mean squared error against the truth (``.rmse``): a
  width can narrow because its variance estimator falls short; the error cannot;
* the district and city knowledge's mean error (``.bias.planned``, ``.bias.fixed``) with a 95% interval over
  the seasons (a bias the districts share adds up in the city), and each design's mean se² over its mean
  squared error (below 1: the intervals' variance falls short of the estimates' spread).

``--tables DIR`` also writes the per-commune, per-cell, DiD and plan tables as CSV, to study a run without
repeating it; ``--from-tables DIR [DIR ...]`` reports on saved tables instead of running, pooling the
seasons of several runs (their seeds must differ).

Each ratio comes with a 95% interval over the seasons (``seed_interval``: the seeds resampled with
replacement, planned and fixed together, 2,000 times; ``ratio_interval`` in its BENCH line). The ratios
moved from one set of 50 seeds to the next by more than their differences from 1; an interval that
straddles 1 is no evidence either way.

Coverage of the planned round's 95% intervals (district and city × the three headline indicators, target
groups × round, the uncertain communes), each with its ``n`` and judged within 0.95 ± max(2 points,
2 Monte Carlo SEs) as ``tests/bench/bench_recovery.py`` judges (seeds as clusters); the fixed design's
coverage is printed beside it. Exit code 1 if the benchmark could not run, 2 if a planned coverage lies
outside its band. About 5 s a seed (50 seeds: 229 s on the 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

#: Resamples of the seasons for each ratio's interval.
BOOTSTRAP_DRAWS = 2000
#: The indicators whose coverage is judged.
HEADLINE = ["knowledge", "aware_signs_3", "hotline_aware"]


def _by_season(design, seeds, **values) -> pd.DataFrame:
    """Rows of ``d`` (design), ``s`` (seed) and each of ``values`` as floats; rows with a NaN dropped."""
    columns = {name: pd.to_numeric(pd.Series(v), errors="coerce").to_numpy(dtype="float64")
               for name, v in values.items()}
    frame = pd.DataFrame({**columns, "d": pd.Series(design).to_numpy(), "s": pd.Series(seeds).to_numpy()})
    return frame.dropna()


def seed_interval(values, design, seeds, *, rms: bool = False,
                  draws: int = BOOTSTRAP_DRAWS) -> tuple[float, float]:
    """95% interval of planned / fixed with the seasons (seeds) resampled with replacement.

    The seasons are the independent units: a season's communes, districts and intervals share its population
    and its draw, so resampling rows would understate the spread. ``rms``: the ratio of root mean squares
    (errors); otherwise of means. A ratio whose interval straddles 1 is not evidence either way.
    """
    frame = _by_season(design, seeds, v=values)
    if rms:
        frame["v"] = frame["v"] ** 2
    order = sorted(frame["s"].unique())
    sums = frame.pivot_table(index="s", columns="d", values="v", aggfunc="sum").reindex(order).fillna(0.0)
    counts = frame.pivot_table(index="s", columns="d", values="v", aggfunc="count").reindex(order).fillna(0.0)
    if not {"planned", "fixed"} <= set(sums.columns) or len(order) < 2:
        return float("nan"), float("nan")
    # each resample as how many times it takes each season: sums and counts are then one product each
    seasons = len(order)
    weights = np.random.default_rng(0).multinomial(seasons, np.full(seasons, 1 / seasons), size=draws)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = {d: (weights @ sums[d].to_numpy()) / (weights @ counts[d].to_numpy())
                for d in ("planned", "fixed")}
        if rms:
            stat = {d: np.sqrt(v) for d, v in stat.items()}
        ratio = stat["planned"] / stat["fixed"]
    low, high = np.nanpercentile(ratio, [2.5, 97.5])
    return float(low), float(high)


def _compare(name, values, design, seeds, unit, lines, benches, better, *, rms: bool = False):
    """Planned against fixed on one measure: ``values`` per row (a 0/1, a width or an error when ``rms``)."""
    values = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64").to_numpy()
    design = pd.Series(design).to_numpy()
    part = {d: values[design == d] for d in ("planned", "fixed")}
    # NaN (an estimate a report left out) skipped, as pandas' means skip it
    figure = {d: float(np.nanmean(v ** 2) ** 0.5) if rms else float(np.nanmean(v)) for d, v in part.items()}
    planned, fixed = figure["planned"], figure["fixed"]
    ratio = planned / fixed if fixed else float("nan")
    low, high = seed_interval(values, design, seeds, rms=rms)
    n = int(len(part["planned"]))
    lines.append(f"{name}: planned {planned:.4f}, fixed {fixed:.4f}, ratio {ratio:.3f} "
                 f"(95% over seeds {low:.3f}–{high:.3f}; {better} is better; n {n})")
    benches.append("BENCH " + json.dumps({"name": f"analysis.next_round.{name}", "value": round(planned, 4),
                                          "unit": unit, "target": round(fixed, 4), "ratio": round(ratio, 4),
                                          "ratio_interval": [round(low, 4), round(high, 4)],
                                          "n": n, "baseline": round(fixed, 4), "better": better}))


def _errors(name, error, design, seeds, lines, benches):
    """The estimates' actual root mean squared error against the truth, planned / fixed: what a width
    promises, measured (a width can narrow because its variance estimator falls short, an error cannot)."""
    _compare(f"{name}.rmse", error, design, seeds, "score", lines, benches, "lower", rms=True)


def _bias_and_se(name, error, se, design, seeds, lines, benches):
    """Each design's mean error against the truth with a 95% interval over the seasons (seed-clustered),
    and its mean estimated variance over its mean squared error (1 when the intervals' se is honest).

    A bias shared by the districts adds up in the city where independent errors would partly cancel, so a
    city error ratio above the districts' is the sign to look for."""
    frame = _by_season(design, seeds, e=error, se=se)
    parts, honesty = [], []
    for d in ("planned", "fixed"):
        mine = frame[frame["d"] == d]
        honesty.append(f"{d} {float((mine['se'] ** 2).mean() / (mine['e'] ** 2).mean()):.3f}")
        per_seed = mine.groupby("s")["e"].mean()
        mean = float(per_seed.mean())
        count = len(per_seed)
        half = 1.96 * float(per_seed.std(ddof=1)) / count ** 0.5 if count > 1 else float("nan")
        parts.append(f"{d} {mean:+.4f} (95% {mean - half:+.4f} to {mean + half:+.4f})")
        benches.append("BENCH " + json.dumps({"name": f"analysis.next_round.{name}.bias.{d}",
                                              "value": round(mean, 5), "unit": "score", "target": 0.0,
                                              "ratio": None, "interval": [round(mean - half, 5),
                                                                          round(mean + half, 5)],
                                              "n": len(mine), "baseline": None}))
    lines.append(f"{name}.bias (mean estimate - truth): " + "; ".join(parts))
    lines.append(f"{name}: mean se² / mean squared error: " + "; ".join(honesty))


def report(tables, seeds, seconds) -> tuple[list[str], bool]:
    """Printed lines and BENCH lines of a run, and whether every planned coverage lies in its band."""
    from tests.bench.bench_recovery import band

    lines = [f"next round, planned vs fixed design: {seeds} seeds, {seconds:.0f} s"]
    benches = []
    communes, cells, did = tables["communes"], tables["cells"], tables["did"]
    by = {d: communes[communes["design"] == d] for d in ("fixed", "planned")}
    top = communes[communes["true_top"]]
    _compare("true_top_in_highest", top["tier"].eq("highest"), top["design"], top["seed"], "share", lines,
             benches, "higher")
    either = {d: float(t.loc[t["true_top"], "tier"].isin(["highest", "high"]).mean()) for d, t in by.items()}
    lines.append(f"  (true top 10 in highest or high: planned {either['planned']:.3f}, "
                 f"fixed {either['fixed']:.3f})")
    uncertain = communes[communes["uncertain"]]
    _compare("uncertain_communes.width", uncertain["width"], uncertain["design"], uncertain["seed"], "score",
             lines, benches, "lower")
    _errors("uncertain_communes", uncertain["knowledge"] - uncertain["truth"], uncertain["design"],
            uncertain["seed"], lines, benches)
    if len(did):
        _compare("did_reached.width", did["width"], did["design"], did["seed"], "score", lines, benches,
                 "lower")
        _errors("did_reached", did["estimate"] - did["truth"], did["design"], did["seed"], lines, benches)
    knowledge = cells[cells["indicator"] == "knowledge"]
    for level in ("district", "city"):
        part = knowledge[knowledge["level"] == level]
        _compare(f"{level}_knowledge.width", part["ci_high"] - part["ci_low"], part["design"], part["seed"],
                 "score", lines, benches, "lower")
        _errors(f"{level}_knowledge", part["estimate"] - part["truth"], part["design"], part["seed"], lines,
                benches)
        _bias_and_se(f"{level}_knowledge", part["estimate"] - part["truth"], part["se"], part["design"],
                     part["seed"], lines, benches)
    ok = True
    coverage = [(f"{level}.{indicator}", cells[(cells["level"] == level) & (cells["indicator"] == indicator)])
                for level in ("district", "city", "group") for indicator in tables["headline"]]
    coverage.append(("uncertain_communes.knowledge", communes[communes["uncertain"]]))
    if len(did):
        coverage.append(("did_reached.effect", did))
    for name, part in coverage:
        planned = part[part["design"] == "planned"]
        fixed = part[part["design"] == "fixed"]
        figures = band(planned["covered"].astype(bool), planned["seed"])
        fixed_cov = float(fixed["covered"].mean()) if len(fixed) else float("nan")
        ok &= figures["within"]
        outside = "" if figures["within"] else ", OUTSIDE"
        lines.append(f"coverage {name}: planned {figures['value']:.3f} of {figures['n']} "
                     f"(MC se {figures['mc_se']:.3f}, "
                     f"band {figures['low']:.3f}–{figures['high']:.3f}{outside});"
                     f" fixed {fixed_cov:.3f}")
        benches.append("BENCH " + json.dumps({
            "name": f"analysis.next_round.coverage.{name}", "value": figures["value"], "unit": "share",
            "target": 0.95, "ratio": round(figures["value"] / 0.95, 4), "n": figures["n"],
            "mc_se": figures["mc_se"],
            "band": [figures["low"], figures["high"]], "within": figures["within"],
            "baseline": round(fixed_cov, 4)}))
    plan = tables["plan"]
    chosen = plan[plan["selected"]]
    lines.append(f"plans: tilt of visited communes {chosen['tilt'].mean():.2f} on average, "
                 f"certainty units {chosen['certainty'].mean():.3f} of visits, "
                 f"takes {int(chosen['take'].min())}–{int(chosen['take'].max())}")
    return lines + benches, ok


def saved_tables(folders: list[Path]) -> dict[str, pd.DataFrame]:
    """The tables ``--tables`` wrote, from one run or several (seasons pooled; their seeds must differ)."""
    from tests.analysis.planned import TABLES

    tables = {name: pd.concat([pd.read_csv(folder / f"{name}.csv") for folder in folders], ignore_index=True)
              for name in TABLES}
    seeds = [set(pd.read_csv(folder / "cells.csv")["seed"]) for folder in folders]
    if sum(map(len, seeds)) != len(set().union(*seeds)):
        raise ValueError("the saved runs share seeds: a season would count twice")
    return tables


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--interviews", type=int, default=6000)
    parser.add_argument("--tables", type=Path, default=None, help="write the run's tables as CSV here")
    parser.add_argument("--from-tables", type=Path, nargs="+", default=None, metavar="DIR",
                        help="report on tables saved by --tables (several runs pooled) instead of running")
    tuning = {"max_tilt": None, "tilt_uncertain": None, "tilt_top": None, "tilt_model": None,
              "tilt_reached": None, "tilt_spread": None, "take_tilt": None, "certain_top": None,
              "district_power": None}
    for name in tuning:
        parser.add_argument("--" + name.replace("_", "-"), type=float, default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    try:
        from tests.analysis.planned import TABLES
        from tests.analysis.planned import run

        chosen = {k: getattr(args, k) for k in tuning if getattr(args, k) is not None}
        start = time.perf_counter()
        if args.from_tables:
            tables = saved_tables(args.from_tables)
        else:
            tables = run(range(args.first_seed, args.first_seed + args.seeds), args.interviews, chosen)
        seconds = time.perf_counter() - start
        if args.tables is not None:
            args.tables.mkdir(parents=True, exist_ok=True)
            for name in TABLES:
                tables[name].to_csv(args.tables / f"{name}.csv", index=False)
        tables["headline"] = HEADLINE
        lines, ok = report(tables, tables["cells"]["seed"].nunique(), seconds)
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        import traceback

        traceback.print_exc()
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1
    if chosen:
        lines.insert(1, f"tuning: {chosen}")
    print("\n".join(lines))
    return 0 if ok else 2


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    sys.exit(main())
