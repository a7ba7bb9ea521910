"""Commune small-area estimates: smoothed variances, benchmarking, suppression, and the known truth.

The truth test runs 3 generated seasons of 4,000 interviews (1,000 a round, about 28 respondents
per sampled commune) through ``tests/analysis/small_area_recovery.py``; the full check (50 seeds
of 8,000) is ``tests/bench/bench_small_area.py``. Bands. The bench measures (seeds 0–49, 8,000
interviews) MSE ratios EBLUP / direct of 0.82 (knowledge) and 0.49 (hotline) and
coverages of 0.95–0.97; here (seeds 200–202) 0.71 and 0.37, coverage 0.96–0.97.
Intervals of one seed × round share their model fit, so over 3 seeds coverage has a Monte Carlo
se of about 0.01–0.015: the band [0.90, 0.99] is ±3 se around 0.95, capped at 0.99. Intervals
40% too narrow fall below it; MSEs too large are caught by the ratio of realised to estimated
MSE (here 0.70–0.92, band 0.6–1.5), which an se 40% too large halves
(``test_the_truth_checks_can_fail``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import commune_estimates as sae
from analysis.commune_estimates import commune_estimates
from analysis.commune_estimates import suppress_communes
from analysis.errors import ColumnMissing
from analysis.errors import VariableInvalid
from analysis.population import communes as census_communes
from tests.analysis.small_area_recovery import run
from tests.analysis.small_area_recovery import summary

SEEDS = range(200, 203)
INTERVIEWS = 4000


def respondents(seed=0, per_district=4, m=8, districts=("916", "924", "926")):
    """A hand-made round: ``per_district`` communes of each district, ``m`` respondents each."""
    rng = np.random.default_rng(seed)
    places = census_communes()
    rows = []
    for d in districts:
        chosen = places[places["district_code"] == d].head(per_district)
        for i, c in enumerate(chosen.itertuples()):
            level = rng.uniform(0.3, 0.7)
            hotline = np.zeros(m, bool) if i == 0 else rng.random(m) < 0.3
            rows.append(pd.DataFrame({
                "round": 2019, "district_code": d, "commune_key": c.commune_key, "stratum": d,
                "psu": c.commune_key, "weight": c.adult_population / m,
                "knowledge": np.clip(rng.normal(level, 0.2, m), 0, 1),
                "hotline_aware": pd.array(hotline, dtype="boolean")}))
    return pd.concat(rows, ignore_index=True)


def test_one_row_per_census_commune_with_pooled_variances():
    frame = respondents()
    out = commune_estimates(frame, year=2019, indicator="knowledge")
    assert len(out) == 85 and out["commune_key"].is_unique
    sampled = out[out["n"] > 0]
    assert len(sampled) == 12 and (sampled["source"] == "small-area").all()
    assert (out.loc[out["n"] == 0, "source"] == "model").all()
    # the direct variance is the district's pooled within-commune variance over n (equal weights)
    for d, part in frame.groupby("district_code"):
        within = part.groupby("commune_key")["knowledge"].transform("mean")
        pooled = ((part["knowledge"] - within) ** 2).sum() / (len(part) - part["commune_key"].nunique())
        rows = sampled[sampled["district_code"] == d]
        np.testing.assert_allclose(rows["direct_se"], np.sqrt(pooled / 8))
        means = part.groupby("commune_key")["knowledge"].mean()
        np.testing.assert_allclose(rows["direct"], rows["commune_key"].map(means))
    # unsampled communes get the model (synthetic) estimate, with no weight on a direct one
    model = out[out["n"] == 0]
    assert (model["gamma"] == 0).all() and model["direct"].isna().all()
    np.testing.assert_allclose(model["eblup"], model["synthetic"])
    assert (model["mse"] > out.attrs["sigma2_u"]).all()
    assert set(out.attrs) >= {"sigma2_u", "coefficients", "covariates", "sampled"}
    assert out.attrs["coefficients"]["term"] == ["Intercept", "urban"]


def test_benchmarked_to_the_district_estimates_and_within_bounds():
    frame = respondents(seed=1)
    for indicator in ("knowledge", "hotline_aware"):
        out = commune_estimates(frame, year=2019, indicator=indicator)
        assert out["estimate"].between(0, 1).all()
        assert (out["ci_low"] <= out["estimate"]).all() and (out["estimate"] <= out["ci_high"]).all()
        targeted = out[out["benchmark_target"].notna()]
        w = targeted["adult_population"]
        mean = (w * targeted["estimate"]).groupby(targeted["district_code"]).sum() / w.groupby(
            targeted["district_code"]).sum()
        y = frame[indicator].astype("float64")
        direct = (frame["weight"] * y).groupby(frame["district_code"]).sum() / frame["weight"].groupby(
            frame["district_code"]).sum()
        np.testing.assert_allclose(mean.sort_index(), direct.sort_index(), atol=1e-12)
        # the benchmark costs MSE, never saves it
        assert (targeted["mse_benchmarked"] >= targeted["mse"]).all()
        # districts without respondents have no target: the model estimate stands
        free = out[out["benchmark_target"].isna()]
        assert len(free) and np.allclose(free["estimate"], free["eblup"].clip(0, 1))
    # a commune where nobody knows the hotline still has a positive (pooled) variance
    hot = commune_estimates(frame, year=2019, indicator="hotline_aware")
    zero = hot[(hot["n"] > 0) & (hot["direct"] == 0)]
    assert len(zero) >= 1 and (zero["direct_se"] > 0).all() and (zero["direct_se_raw"] == 0).all()


def test_bounded_benchmark_stops_at_one_and_still_matches():
    out = pd.DataFrame({"district_code": ["x"] * 3, "eblup": [0.90, 0.95, 0.50],
                        "mse": [0.04, 0.04, 0.001], "adult_population": [100.0, 100.0, 100.0]})
    est = sae._bounded_benchmark(out, pd.Series({"x": 0.85}))
    assert est.max() <= 1 and est.mean() == pytest.approx(0.85, abs=1e-12)
    # unbounded, the uncertain areas would be pushed past 1
    assert (est[:2] == 1.0).all() and est[2] == pytest.approx(0.55)


def test_small_communes_are_withheld_but_unsampled_ones_are_not():
    table = pd.DataFrame({"n": [0, 3, 12], "estimate": [0.4, 0.5, 0.6], "eblup": [0.4, 0.5, 0.6],
                          "gamma": [0.0, 0.2, 0.7]})
    out = suppress_communes(table, min_n=10)
    assert out["suppressed"].tolist() == [False, True, False]
    assert np.isnan(out.loc[1, "estimate"]) and np.isnan(out.loc[1, "gamma"])
    assert out.loc[0, "estimate"] == 0.4 and out.loc[2, "estimate"] == 0.6


def test_input_errors():
    frame = respondents()
    with pytest.raises(ColumnMissing):
        commune_estimates(frame, year=2019, indicator="nope")
    with pytest.raises(VariableInvalid):
        commune_estimates(frame, year=2018, indicator="knowledge")
    with pytest.raises(VariableInvalid):
        commune_estimates(frame.assign(knowledge="x"), year=2019, indicator="knowledge")


# ----------------------------------------------------------------------------- known truth
@pytest.fixture(scope="module")
def recovered():
    table = run(SEEDS, INTERVIEWS)
    return table, summary(table).set_index("indicator")


def test_small_area_estimates_beat_direct_and_cover_the_truth(recovered):
    table, figures = recovered
    assert len(table) == len(SEEDS) * 4 * 2 * 85
    assert table["benchmark_error"].abs().max() < 1e-10
    for indicator, row in figures.iterrows():
        assert row["ratio_eblup"] < 0.9, (indicator, row["ratio_eblup"])
        assert row["ratio_published"] < 1.0, (indicator, row["ratio_published"])
        assert 0.90 <= row["coverage_sampled"] <= 0.99, (indicator, row["coverage_sampled"])
        assert 0.90 <= row["coverage_unsampled"] <= 0.99, (indicator, row["coverage_unsampled"])
        # the estimated MSEs are of the right size on average (neither half nor double)
        assert 0.6 < row["mse_over_estimated_sampled"] < 1.5
        assert 0.6 < row["mse_over_estimated_unsampled"] < 1.5


def test_the_truth_checks_can_fail(recovered):
    """Intervals 40% too narrow or ses 40% too large fall outside the bands."""
    table, _ = recovered
    centre = (table["ci_high"] + table["ci_low"]) / 2
    half = 0.6 * (table["ci_high"] - table["ci_low"]) / 2
    narrow = ((centre - half) <= table["truth"]) & (table["truth"] <= (centre + half))
    for (_, source), part in table.groupby(["indicator", "source"]):
        assert narrow[part.index].mean() < 0.90, source
        # se 1.4 times too large: the realised MSE falls below 0.6 of the estimated one
        ratio = ((part["estimate"] - part["truth"]) ** 2).mean() / ((1.4 * part["se"]) ** 2).mean()
        assert ratio < 0.6, source


def test_a_covariate_constant_among_sampled_communes_is_left_out():
    # district 916 (Ninh Kiều) has only wards: every sampled commune is urban
    frame = respondents(districts=("916",), per_district=5)
    places = census_communes().set_index("commune_key")
    assert (places.loc[frame["commune_key"].unique(), "area"] == "urban").all()
    out = commune_estimates(frame, year=2019, indicator="knowledge")
    assert out.attrs["covariates"] == [] and out.attrs["covariates_dropped"] == ["urban"]
    assert out.attrs["coefficients"]["term"] == ["Intercept"]
    # with an intercept only, every commune without interviews gets the same model estimate
    assert out.loc[out["n"] == 0, "synthetic"].nunique() == 1
