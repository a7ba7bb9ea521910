"""The next-round benchmark's interval on a ratio (``tests/bench/bench_next_round.py::seed_interval``).

The benchmark judges "planned better than fixed" by ratios over 40–50 seasons, and those ratios flipped
between seed sets; the interval says how far a ratio can be trusted. Checked here against cases with a known
answer: a ratio fixed by construction, and two designs with the same distribution.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.bench.bench_next_round import seed_interval


def _rows(planned: np.ndarray, fixed: np.ndarray):
    """Rows of (value, design, seed): one value per design per season and per row of ``planned``."""
    seasons, per = planned.shape
    seeds = np.repeat(np.arange(seasons), per)
    values = np.concatenate([planned.ravel(), fixed.ravel()])
    design = ["planned"] * planned.size + ["fixed"] * fixed.size
    return values, design, np.concatenate([seeds, seeds])


def test_seasons_are_resampled_in_pairs():
    # every season's planned values are exactly 1.5 × its fixed ones, however much seasons differ
    rng = np.random.default_rng(3)
    fixed = rng.lognormal(0.0, 1.0, size=(40, 9))
    low, high = seed_interval(*_rows(1.5 * fixed, fixed))
    assert np.isclose([low, high], 1.5).all()
    low, high = seed_interval(*_rows(1.5 * fixed, fixed), rms=True)
    assert np.isclose([low, high], 1.5).all()


def test_two_designs_alike_give_intervals_around_one_about_95_percent_of_the_time():
    # a season effect shared by both designs (as a shared population is) and noise of their own
    rng = np.random.default_rng(7)
    covered = []
    for _ in range(200):
        season = rng.normal(0.0, 0.5, size=(30, 1))
        planned = 1.0 + np.abs(season + rng.normal(0.0, 0.3, size=(30, 9)))
        fixed = 1.0 + np.abs(season + rng.normal(0.0, 0.3, size=(30, 9)))
        low, high = seed_interval(*_rows(planned, fixed), draws=500)
        covered.append(low <= 1.0 <= high)
    share = float(np.mean(covered))
    # 200 experiments: the Monte Carlo se of a 0.95 share is 0.015; percentile intervals run a little short
    assert 0.89 <= share <= 0.99, share


def test_a_clear_difference_is_outside_the_interval_and_missing_designs_give_nan():
    rng = np.random.default_rng(11)
    fixed = rng.normal(1.0, 0.1, size=(40, 9)) ** 2
    low, high = seed_interval(*_rows(0.8 * fixed + rng.normal(0, 0.01, size=fixed.shape), fixed))
    assert high < 1.0 and low > 0.7
    values, design, seeds = _rows(fixed, fixed)
    only_fixed = pd.Series(design) == "fixed"
    assert all(np.isnan(seed_interval(np.asarray(values)[only_fixed], pd.Series(design)[only_fixed],
                                      np.asarray(seeds)[only_fixed])))


def test_a_measure_left_out_of_a_report_is_skipped_not_propagated():
    from tests.bench.bench_next_round import _compare

    lines, benches = [], []
    values = [0.1, np.nan, 0.3, 0.2, 0.2, 0.2]
    design = ["planned"] * 3 + ["fixed"] * 3
    _compare("width", values, design, [0, 1, 2, 0, 1, 2], "score", lines, benches, "lower")
    assert lines[0].startswith("width: planned 0.2000, fixed 0.2000, ratio 1.000"), lines


def test_the_bias_line_finds_a_shared_bias_and_the_variance_line_an_understated_se():
    from tests.bench.bench_next_round import _bias_and_se

    rng = np.random.default_rng(3)
    seeds = np.repeat(np.arange(60), 9)  # 60 seasons of 9 districts
    noise = rng.normal(0.0, 0.02, len(seeds))
    error = np.concatenate([noise + 0.01, noise])  # planned: every district 0.01 too high
    se = np.concatenate([np.full(len(seeds), 0.01), np.full(len(seeds), 0.02)])  # planned: half the spread
    design = ["planned"] * len(seeds) + ["fixed"] * len(seeds)
    lines, benches = [], []
    _bias_and_se("district", error, se, design, np.concatenate([seeds, seeds]), lines, benches)
    figures = {json.loads(b[6:])["name"].rsplit(".", 1)[1]: json.loads(b[6:]) for b in benches}
    low, high = figures["planned"]["interval"]
    assert 0.0 < low < 0.01 < high  # the shared bias is found, and lies in its interval
    low, high = figures["fixed"]["interval"]
    assert low < 0.0 < high
    planned, fixed = (float(part.split()[1]) for part in lines[1].split(": ", 2)[2].split("; "))
    assert 0.15 < planned < 0.25 and 0.9 < fixed < 1.1  # (0.01² / (0.02² + 0.01²) = 0.2) and 1


def test_saved_tables_pool_runs_of_different_seeds_and_refuse_a_season_twice(tmp_path):
    from tests.analysis.planned import TABLES
    from tests.bench.bench_next_round import saved_tables

    for folder, seeds in (("a", [0, 1]), ("b", [2])):
        (tmp_path / folder).mkdir()
        for name in TABLES:
            table = pd.DataFrame({"seed": seeds, "value": [0.5] * len(seeds)})
            table.to_csv(tmp_path / folder / f"{name}.csv", index=False)
    pooled = saved_tables([tmp_path / "a", tmp_path / "b"])
    assert set(pooled) == set(TABLES) and pooled["cells"]["seed"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="share seeds"):
        saved_tables([tmp_path / "a", tmp_path / "a"])
