"""Benchmark: parameter recovery on generated seasons (coverage of the product's 95% CIs).

Run: python tests/bench/bench_recovery.py [--seeds 50] [--interviews 8000] [--first-seed 0]

For each seed, a season of ``--interviews`` awareness submissions (default 8,000 over the four
rounds 2017–2020: 2,000 a round, 36 communes a round, about 55 approached per commune) goes
through the product's own path (``tests/analysis/recovery.py`` has the details):
tidy → weights → ``Design(strata = round × district, psu = round × commune)`` → district × round
knowledge means, and ``did`` of reached vs never-reached communes with pre = 2017 and post =
2018 (the 2018 cohort) and post = 2019 (both cohorts). About 3 s a seed on one busy core, so
the default 50 seeds take 2–3 minutes.

Printed: coverage of the 95% CIs of the district × round means over all seeds and cells, the
DiD CI coverage of the true outreach effect, mean bias, and one ``BENCH`` JSON line per coverage
(``ratio`` = coverage / 0.95). Coverage is a share of intervals; with 50 seeds a DiD coverage has
a binomial standard error of about 0.03, so it cannot separate 0.93 from 0.97.

The DiD estimand
----------------
The true effect is an ATT on the knowledge *score* (the reached communes' population mean with
minus without their campaign), while the generator's parallel trends hold on the *logit* scale.
A score-scale DiD therefore estimates ATT + (difference of the two groups' counterfactual score
trends), and the truth gives that difference exactly (``trend_gap``, from ``truth["commune"]``
and the ``untreated_knowledge`` of ``truth["effects"]``). We keep the product's estimator as an
analyst would run it and compare it with the issue's target, the true effect, *and* report its
exact finite-population target (``pop_did``) and the gap between the two, so that a coverage
shortfall can be attributed to the identification bias or to the standard errors. Treated and
control sets are chosen to match the truth's: ``effects`` of round r pools every commune whose
campaign year is ≤ r, i.e. exactly those the outreach log shows as reached by r; the controls
are the communes with no activity up to the last round (not-yet-reached communes are left
out). With the default parameters (ability trend 0.12 logit a year, score levels near 0.5, and
campaigns assigned at random within districts) the trend gap is of the order of 1e-4, two
orders of magnitude below the DiD's standard error, so the ATT and the score-scale DiD target
practically coincide here; with stronger trends, levels near 0 or 1, or treated communes that
differ in level, they would not. Nothing here is tuned to the result; the exit code is non-zero
only if the benchmark could not run.

Measured (seeds 0–49, 8,000 interviews, 210 s on a loaded 2-core machine)
------------------------------------------------------------------------
* District × round means: coverage 0.918 of 1,800 intervals (Monte Carlo se 0.007), mean bias
  +0.0007 (se 0.0006). Inside 0.90–0.98 but below the nominal 0.95, although the SEs are too
  large on average (mean squared error / mean variance 0.58: the with-replacement variance ignores
  that 4 of about 9 communes per district are drawn, and the truth is this finite population's
  mean). The shortfall is the degrees of freedom: a cell is one stratum of 4 PSUs, so its variance
  estimate has 3 df, yet the interval uses t(#PSU − #strata = 108), the R/Stata convention for
  domains. With t(3) coverage is 0.979; with an fpc and t(108) it falls to 0.864.
* DiD, post 2018 (2018 cohort vs never reached): 50/50 = 1.000 (Wilson 0.929–1.000); post 2019
  (both cohorts): 48/50 = 0.960. Bias vs the true effect +0.005 (se 0.005) and +0.0003 (se 0.005);
  the score-scale trend gap is at most 6e-4. The intervals are conservative for the same
  finite-population reason: empirical sd 0.036 vs mean se 0.046 (2018), 0.032 vs 0.040 (2019).
  With a first-stage fpc (1 − n_h/N_h) the se matches the sd (0.035, 0.031) and coverage is
  0.94 for both. So 2018's 1.000 lies above 0.98 for a principled reason (no fpc, a conservative
  but standard choice), not because of the estimand.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

TARGET = 0.95


def _bench(name: str, value: float) -> str:
    return "BENCH " + json.dumps({"name": name, "value": round(value, 4), "unit": "share", "target": TARGET,
                                  "ratio": round(value / TARGET, 4), "baseline": None})


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5 / (1 + z * z / n)
    return centre - half, centre + half


def report(cells, dids, seeds: int, interviews: int, seconds: float) -> list[str]:
    """The printed summary (lines) of a run."""
    lines = [f"parameter recovery: {seeds} seeds × {interviews:,} interviews (4 rounds), {seconds:.0f} s"]
    per_seed = cells.groupby("seed")["covered"].mean()
    coverage = float(cells["covered"].mean())
    mc_se = float(per_seed.std(ddof=1) / len(per_seed) ** 0.5) if len(per_seed) > 1 else float("nan")
    err = cells["error"]
    var_ratio = float((err ** 2).mean() / (cells["se"] ** 2).mean())
    lines += [
        f"district × round knowledge means: {len(cells)} CIs, coverage {coverage:.3f} "
        f"(Monte Carlo se {mc_se:.3f}, seeds as clusters)",
        f"  mean bias {err.mean():+.5f} (se {err.std(ddof=1) / len(err) ** 0.5:.5f}), "
        f"mean |error| {err.abs().mean():.4f}, mean se {cells['se'].mean():.4f}",
        f"  mean squared error / mean estimated variance {var_ratio:.3f} (below 1: SEs too large on average)",
        f"  diagnostic: coverage with t(PSUs in cell − 1) instead of the design df "
        f"{float(cells['covered_local_df'].mean()):.3f}",
    ]
    if "covered_fpc" in cells:
        lines.append(f"  diagnostic: coverage with a first-stage fpc 1 − n_h/N_h (design df) "
                     f"{float(cells['covered_fpc'].mean()):.3f}")
    out = [_bench("analysis.recovery.district_round_mean.coverage", coverage)]
    order = {"unadjusted": 0, "adjusted": 1, "unadjusted_fpc": 2}
    groups = sorted(dids.groupby(["post", "model"]), key=lambda g: (g[0][0], order.get(g[0][1], 9)))
    for (post, model), part in groups:
        n = len(part)
        k = int(part["covers_effect"].sum())
        low, high = _wilson(k, n)
        to_effect = part["estimate"] - part["effect"]
        to_target = part["estimate"] - part["pop_did"]
        lines += [
            f"DiD post {post} ({model}): coverage of the true effect {k}/{n} = {k / n:.3f} "
            f"(Wilson 95% {low:.3f}–{high:.3f}); of the score-scale DiD target "
            f"{float(part['covers_pop_did'].mean()):.3f}",
            f"  mean true effect {part['effect'].mean():.4f}; mean bias vs effect {to_effect.mean():+.5f} "
            f"(se {to_effect.std(ddof=1) / n ** 0.5:.5f}); vs DiD target {to_target.mean():+.5f}; "
            f"trend gap (target − effect) mean {part['trend_gap'].mean():+.6f}, "
            f"max |.| {part['trend_gap'].abs().max():.6f}",
            f"  empirical sd of (estimate − target) {to_target.std(ddof=1):.4f} vs mean se "
            f"{part['se'].mean():.4f}",
        ]
        if model == "unadjusted":
            out.append(_bench(f"analysis.recovery.did_{post}.coverage", k / n))
    return lines + out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--interviews", type=int, default=8000)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    try:
        from tests.analysis.recovery import run

        start = time.perf_counter()
        cells, dids = run(range(args.first_seed, args.first_seed + args.seeds), args.interviews)
        seconds = time.perf_counter() - start
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1
    print("\n".join(report(cells, dids, args.seeds, args.interviews, seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
