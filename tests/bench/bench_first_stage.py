"""Benchmark: where the district variance falls short on a tilted draw (issue 17), first stage alone.

The planned round's district intervals came out narrower than their estimates' spread (docs/analysis.md, "Why
the tilt is capped at 2"). Two causes were possible: Hartley & Rao's approximation of the joint inclusion
probabilities pi_ij of the randomised systematic draw, or the linearisation of the district mean (a ratio,
sum w M y / sum w M) when the weights vary. This benchmark separates them.

For each of ``--populations`` generated populations × the census's nine districts: true commune means y_i ~
N(0.5, 0.12) clipped to [0, 1], each commune's measure of size x_i = adults_i × tilt_i with tilt_i uniform in
[1, max_tilt] (independent of y_i), four communes drawn by the planner's own draw (``analysis.next_round``:
``inclusion`` and ``draw``). The estimator is the reports' ratio mean with true commune means (no second
stage). Its variance is measured over ``--draws`` draws, and against it the mean of three variance estimates:

* Hartley–Rao, as ``analysis/_taylor.py`` computes it (its diagonal form);
* Sen–Yates–Grundy with the draw's own pi_ij, estimated by running the draw ``--joint-draws`` times;
* the delete-one-PSU jackknife (JK1) times (1 − the drawn communes' mean pi), for drawing without replacement.

A certainty unit (pi = 1, peeled off by ``inclusion``) adds no first-stage variance to any of them, as the
reports make it a stratum of its own. Also printed: the estimator's variance over its mean squared error (its
bias), and the share of district populations with a certainty unit.

``BENCH`` lines: each estimate's mean over the estimator's variance (target 1), per max tilt; and the paired
ratio of Sen–Yates–Grundy's to Hartley–Rao's, with a 95% interval over the district populations (1 when exact
pi_ij change nothing).
Run: python tests/bench/bench_first_stage.py [--tilts 1 2] [--populations 5] [--draws 3000]
     [--joint-draws 30000]     (about 35 s a tilt on the 2-core machine at the defaults)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VISITS = 4


def joint_inclusion(rng, sizes, pi, certain, draws: int) -> np.ndarray:
    """pi_ij of the planner's draw, by running it ``draws`` times (the diagonal is pi_i)."""
    from analysis.next_round import draw

    taken = np.array([draw(rng, sizes, pi, certain) for _ in range(draws)], dtype="float64")
    return taken.T @ taken / draws


def estimates(y, adults, pi, pij, selected, certain) -> tuple[float, float, float, float]:
    """The ratio mean of one draw and its Hartley–Rao, Sen–Yates–Grundy and JK1 variance estimates.

    Certainty units (``certain``: pi = 1, peeled off by ``inclusion``) add no first-stage variance: as the
    reports put them in a stratum of their own, Hartley–Rao and the jackknife run over the drawn units only,
    with their own n and pi (Sen–Yates–Grundy gives them nothing by itself: pi_ij = pi_j when pi_i = 1).
    """
    idx = np.flatnonzero(selected)
    n = len(idx)
    w = adults[idx] / pi[idx]
    mean = float((w * y[idx]).sum() / w.sum())
    t = w * (y[idx] - mean) / w.sum()  # the linearised scores' expanded totals
    drawn = ~certain[idx]
    m, pi_drawn, t_drawn = int(drawn.sum()), pi[idx][drawn], t[drawn]
    hartley_rao = jackknife = 0.0
    if m > 1:
        p2 = float((pi[~certain] ** 2).sum() / m)
        factor = np.maximum(1 + p2 - pi_drawn.sum() / m - pi_drawn, 0.0)
        hartley_rao = m / (m - 1) * float((factor * (t_drawn - t_drawn.mean()) ** 2).sum())
        replicates = []
        for left_out in np.flatnonzero(drawn):
            keep = np.arange(n) != left_out
            scale = np.where(drawn[keep], m / (m - 1), 1.0)  # the other drawn units stand in for it
            kept = w[keep] * scale
            replicates.append((kept * y[idx][keep]).sum() / kept.sum())
        replicates = np.array(replicates)
        jackknife = (m - 1) / m * float(((replicates - replicates.mean()) ** 2).sum()) * (1 - pi_drawn.mean())
    pa, pb = np.meshgrid(pi[idx], pi[idx], indexing="ij")
    joint = pij[np.ix_(idx, idx)]
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    if (joint[upper] == 0).any():
        raise ValueError("two drawn communes never met in the simulated draws: raise --joint-draws")
    syg = float(((pa * pb - joint) / joint * (t[:, None] - t[None, :]) ** 2)[upper].sum())
    return mean, hartley_rao, syg, jackknife


def run(max_tilt: float, args) -> dict[str, float]:
    from analysis.next_round import draw
    from analysis.next_round import inclusion
    from analysis.population import communes

    rng = np.random.default_rng(args.seed)
    census = communes()
    ratios = {"hartley_rao": [], "syg_simulated_pij": [], "jk1_fpc": []}
    bias_check, with_certainty = [], []  # the estimator's variance / its mean squared error; a certainty unit
    for _ in range(args.populations):
        for _code, district in census.groupby("district_code"):
            adults = district["adult_population"].to_numpy(dtype="float64")
            if len(adults) <= VISITS:
                continue
            y = np.clip(rng.normal(0.5, 0.12, len(adults)), 0.0, 1.0)
            sizes = adults * (rng.uniform(1.0, max_tilt, len(adults)) if max_tilt > 1 else 1.0)
            pi, certain = inclusion(sizes, VISITS, np.zeros(len(adults), dtype=bool))
            pij = joint_inclusion(rng, sizes, pi, certain, args.joint_draws)
            rows = np.array([estimates(y, adults, pi, pij, draw(rng, sizes, pi, certain), certain)
                             for _ in range(args.draws)])
            spread = rows[:, 0].var()
            for k, name in enumerate(ratios, start=1):
                ratios[name].append(rows[:, k].mean() / spread)
            truth = (adults * y).sum() / adults.sum()
            bias_check.append(spread / ((rows[:, 0] - truth) ** 2).mean())
            with_certainty.append(bool(certain.any()))
    paired = np.array(ratios["syg_simulated_pij"]) / np.array(ratios["hartley_rao"])
    out = {name: float(np.mean(values)) for name, values in ratios.items()}
    half = 1.96 * paired.std(ddof=1) / np.sqrt(len(paired))
    out["syg_over_hartley_rao"] = float(paired.mean())
    out["_interval"] = (float(paired.mean() - half), float(paired.mean() + half))
    out["_populations"] = len(paired)
    out["_variance_over_mse"] = float(np.mean(bias_check))
    out["_with_certainty"] = float(np.mean(with_certainty))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tilts", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--populations", type=int, default=5)
    parser.add_argument("--draws", type=int, default=3000)
    parser.add_argument("--joint-draws", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for max_tilt in args.tilts:
        started = time.perf_counter()
        ratios = run(max_tilt, args)
        low, high = ratios.pop("_interval")
        count = ratios.pop("_populations")
        variance_over_mse, with_certainty = ratios.pop("_variance_over_mse"), ratios.pop("_with_certainty")
        paired = ratios["syg_over_hartley_rao"]
        each = ", ".join(f"{name} {value:.3f}" for name, value in ratios.items()
                         if name != "syg_over_hartley_rao")
        print(f"max tilt {max_tilt:g}, {count} district populations, {args.draws} draws each: mean variance "
              f"estimate / the estimator's variance: {each}; Sen-Yates-Grundy / Hartley-Rao {paired:.3f} "
              f"(95% {low:.3f}-{high:.3f}); the estimator's variance / its mean squared error "
              f"{variance_over_mse:.3f}; a certainty unit in {with_certainty:.1%} of the district "
              f"populations ({time.perf_counter() - started:.0f} s)", flush=True)
        for name, value in ratios.items():
            line = {"name": f"first_stage.tilt_{max_tilt:g}.{name}", "value": round(value, 4),
                    "unit": "ratio of variances", "target": 1.0, "ratio": round(value, 3), "baseline": None}
            print("BENCH " + json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
