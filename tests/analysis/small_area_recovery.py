"""Commune small-area estimates on generated seasons, compared with the exact commune truth.

Shared by ``tests/bench/bench_small_area.py`` (50+ seeds) and ``tests/analysis/test_communes.py``
(a few seeds). One seed = one generated season (all four rounds) taken through the product's
path (``recovery.analysis_frame``: tidy → weights), then, per round and indicator,
:func:`analysis.commune_estimates.commune_estimates` against ``season.truth["commune"]`` (the population
mean of each commune in that round, exact).

Per commune row: the direct estimate and its 95% normal interval with the smoothed variance
(sampled communes only), the EBLUP before benchmarking, the published (benchmarked) estimate and
its interval, and the benchmark's error (adult-weighted mean of the commune estimates minus the
district's design-based estimate, which must be 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.commune_estimates import commune_estimates
from analysis.simulation import generate
from analysis.survey import Design
from tests.analysis.recovery import ROUNDS
from tests.analysis.recovery import analysis_frame

INDICATORS = ("knowledge", "hotline_aware")
Z = 1.959963984540054


def _district_targets(frame, year, indicator):
    this = frame[frame["round"] == year].reset_index(drop=True)
    this = this.assign(_y=this[indicator].astype("Float64").astype("float64"))
    design = Design(this, weight="weight", strata="stratum", psu="psu", lonely_psu="adjust")
    return design.mean("_y", by="district_code").set_index("district_code")["estimate"]


def run_seed(seed: int, interviews: int, indicators=INDICATORS, rounds=ROUNDS) -> pd.DataFrame:
    """One row per round × indicator × commune (85 each) with estimates, truth and checks."""
    season = generate(seed=seed, interviews=interviews, rounds=rounds)
    frame = analysis_frame(season)
    truth = season.truth["commune"]
    parts = []
    for year in rounds:
        true = truth[truth["round"] == year].set_index("commune_key")
        for indicator in indicators:
            out = commune_estimates(frame, year=year, indicator=indicator)
            out["truth"] = out["commune_key"].map(true[indicator])
            if out["truth"].isna().any():
                raise AssertionError("communes without truth")
            target = _district_targets(frame, year, indicator)
            w = out["adult_population"]
            mean = (w * out["estimate"]).groupby(out["district_code"]).sum() / w.groupby(
                out["district_code"]).sum()
            out["benchmark_error"] = out["district_code"].map(mean - target)
            out["sigma2_u"] = out.attrs["sigma2_u"]
            parts.append(out.assign(seed=seed, round=year, indicator=indicator))
    table = pd.concat(parts, ignore_index=True)
    table["covered"] = (table["ci_low"] <= table["truth"]) & (table["truth"] <= table["ci_high"])
    sampled = table["source"] == "small-area"
    off = (table["direct"] - table["truth"]).abs() <= Z * table["direct_se"]
    table["direct_covered"] = np.where(sampled, off, np.nan)
    return table


def run(seeds, interviews: int, indicators=INDICATORS) -> pd.DataFrame:
    """``run_seed`` over ``seeds``, concatenated."""
    return pd.concat([run_seed(s, interviews, indicators) for s in seeds], ignore_index=True)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per indicator: MSE ratios against the direct estimate, coverages, benchmark error."""
    rows = []
    for indicator, part in table.groupby("indicator", sort=False):
        s = part[part["source"] == "small-area"]
        u = part[part["source"] == "model"]

        def mse(frame, column):
            return float(((frame[column] - frame["truth"]) ** 2).mean())

        rows.append({
            "indicator": indicator, "sampled": len(s), "unsampled": len(u),
            "mse_direct": mse(s, "direct"), "mse_eblup": mse(s, "eblup"), "mse_published": mse(s, "estimate"),
            "ratio_eblup": mse(s, "eblup") / mse(s, "direct"),
            "ratio_published": mse(s, "estimate") / mse(s, "direct"),
            "mse_model_unsampled": mse(u, "estimate"),
            "mse_eblup_unbenchmarked_unsampled": mse(u, "eblup"),
            "coverage_sampled": float(s["covered"].mean()),
            "coverage_unsampled": float(u["covered"].mean()),
            "coverage_direct": float(s["direct_covered"].astype(float).mean()),
            # mean squared error over mean estimated MSE: 1 if the MSEs are right on average
            "mse_over_estimated_sampled": mse(s, "estimate") / float((s["se"] ** 2).mean()),
            "mse_over_estimated_unsampled": mse(u, "estimate") / float((u["se"] ** 2).mean()),
            "mean_shrinkage": float(s["shrinkage"].mean()),
            "max_benchmark_error": float(part["benchmark_error"].abs().max()),
        })
    return pd.DataFrame(rows)
