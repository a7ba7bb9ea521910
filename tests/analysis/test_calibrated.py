"""Post-stratified weights (``Design(calibrated=True)``): a no-op on a self-weighting draw, and on a
tilted PPS draw (a planned round) intervals that match the estimator's spread, checked by simulation
with known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DesignInvalid
from analysis.next_round import draw
from analysis.next_round import inclusion
from analysis.survey import Design
from analysis.survey import PpsSizes

DISTRICTS, COMMUNES, VISITS, TAKE = 3, 12, 4, 30


def _population(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for d, level in zip(range(DISTRICTS), (0.1, 0.5, 0.9), strict=True):
        for c in range(COMMUNES):
            rows.append({"district": f"d{d}", "commune": f"d{d}c{c}",
                         "adults": float(rng.integers(500, 5000)),
                         "p": float(np.clip(level + rng.normal(0, 0.04), 0.02, 0.98)),
                         "tilt": float(rng.uniform(1, 2))})
    return pd.DataFrame(rows)


def _sample(population: pd.DataFrame, rng, *, tilted: bool) -> pd.DataFrame:
    """One round: VISITS communes per district by randomised systematic PPS, TAKE people in each."""
    parts = []
    for _, group in population.groupby("district"):
        size = group["adults"].to_numpy() * (group["tilt"].to_numpy() if tilted else 1.0)
        pi, certain = inclusion(size, VISITS, np.zeros(len(group), dtype=bool))
        picked = draw(rng, size, pi, certain)
        chosen = group[picked].assign(mos=size[picked], mos_total=size.sum(), mos_sumsq=(size**2).sum(),
                                      pi_commune=pi[picked])
        chosen = chosen.assign(base=chosen["adults"] / (chosen["pi_commune"] * TAKE))
        # post-stratified to the district's adults, as design_weights(calibrate=True) does
        chosen = chosen.assign(weight=chosen["base"] * group["adults"].sum() / (chosen["base"] * TAKE).sum())
        people = chosen.loc[chosen.index.repeat(TAKE)].reset_index(drop=True)
        people["y"] = (rng.random(len(people)) < people["p"]).astype(float)
        parts.append(people)
    return pd.concat(parts, ignore_index=True)


def _design(frame: pd.DataFrame, *, weight: str = "weight", calibrated: bool) -> Design:
    # every row carries its recorded sizes, so the census map is never consulted
    return Design(frame, weight=weight, strata="district", psu="commune", lonely_psu="adjust",
                  df="satterthwaite", second_stage=True, calibrated=calibrated,
                  fpc=PpsSizes("district", "commune", {}))


def test_calibration_changes_nothing_on_a_self_weighting_draw():
    sample = _sample(_population(), np.random.default_rng(1), tilted=False)
    plain, calibrated = _design(sample, calibrated=False), _design(sample, calibrated=True)
    for by in (None, "district"):
        a, b = plain.mean("y", by=by), calibrated.mean("y", by=by)
        np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=1e-12)
        np.testing.assert_allclose(b["se"], a["se"], rtol=1e-9)


def test_on_a_tilted_draw_calibrated_intervals_match_the_spread_and_are_narrower():
    population = _population()
    truth = float((population["adults"] * population["p"]).sum() / population["adults"].sum())
    rng = np.random.default_rng(2026)
    estimates, calibrated_se, plain_se, uncalibrated = [], [], [], []
    for _ in range(400):
        sample = _sample(population, rng, tilted=True)
        city = _design(sample, calibrated=True).mean("y").iloc[0]
        estimates.append((city["estimate"], city["ci_low"], city["ci_high"]))
        calibrated_se.append(city["se"])
        # the same weights, their calibration ignored by the variance
        plain_se.append(_design(sample, calibrated=False).mean("y").iloc[0]["se"])
        # the plan's weights as drawn (no post-stratification): the estimator calibration replaces
        uncalibrated.append(_design(sample, weight="base", calibrated=False).mean("y").iloc[0]["estimate"])
    est = np.array([e[0] for e in estimates])
    covered = np.mean([low <= truth <= high for _, low, high in estimates])
    spread = est.var(ddof=1)
    ratio = np.mean(np.square(calibrated_se)) / spread
    assert abs(est.mean() - truth) < 3 * np.sqrt(spread / len(est))  # unbiased, within MC error
    # the variance matches the estimator's spread (Hartley-Rao's approximation runs a little short on
    # tilted sizes: 0.94 here, measured), and the intervals cover
    assert 0.8 < ratio < 1.2, ratio
    assert 0.92 <= covered <= 0.98, covered  # 400 intervals: MC se about 0.011
    # ignoring the calibration overstates the variance (1.30 here); not calibrating leaves a spread
    # a third wider (the random share of each district in the city)
    assert np.mean(np.square(plain_se)) / spread > 1.15 * ratio
    assert np.var(uncalibrated, ddof=1) > 1.15 * spread


def test_calibration_needs_the_strata():
    frame = pd.DataFrame({"y": [1.0, 0.0], "w": [1.0, 1.0]})
    with pytest.raises(DesignInvalid, match="strata"):
        Design(frame, weight="w", calibrated=True)
