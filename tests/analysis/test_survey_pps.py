"""A PPS-without-replacement first stage (Hartley–Rao) and the bias-corrected Satterthwaite df, by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis.change import change
from analysis.errors import DesignInvalid
from analysis.levels import census_pps
from analysis.levels import report_design
from analysis.levels import round_levels
from analysis.population import communes as census_communes
from analysis.survey import Design
from analysis.survey import PpsSizes
from analysis.survey import PsuCounts

#: Population sizes of every PSU of strata a (10 PSUs) and b (5 PSUs); a0–a3 and b0–b2 are sampled.
SIZES = {"a": {f"a{j}": s for j, s in enumerate([900, 400, 250, 700, 300, 150, 600, 350, 200, 250])},
         "b": {f"b{j}": s for j, s in enumerate([120, 200, 80, 190, 110])}}


def _sample(seed=5):
    """3 to 6 respondents in each sampled PSU, weights varying by PSU."""
    rng = np.random.default_rng(seed)
    rows = []
    for stratum, sampled in (("a", 4), ("b", 3)):
        for j in range(sampled):
            w = rng.uniform(5, 15)
            for _ in range(rng.integers(3, 7)):
                rows.append({"stratum": stratum, "psu": f"{stratum}{j}", "w": w, "y": rng.normal(2 + j, 1),
                             "d": rng.random() < 0.5})
    return pd.DataFrame(rows)


def _hartley_rao(frame, z, sizes=SIZES, second_stage=False):
    """Hartley & Rao's estimator by explicit pairs, (1/(n-1)) sum_{i<j} (1 - pi_i - pi_j + p2)(t_i - t_j)^2
    per stratum with pi_i = n M_i / M_h and p2 = sum_U pi^2 / n; with a second stage plus
    pi_i m_i/(m_i - 1) sum_j (z_ij - mean_i z)^2 per PSU."""
    var = 0.0
    for stratum, part in frame.assign(_z=z).groupby("stratum"):
        population = np.array(list(sizes[stratum].values()), dtype=float)
        psus = list(part.groupby("psu"))
        n = len(psus)
        p2 = np.sum((n * population / population.sum()) ** 2) / n
        pi = {key: n * sizes[stratum][key] / population.sum() for key, _ in psus}
        t = {key: p["_z"].sum() for key, p in psus}
        for (i, _), (j, _) in itertools.combinations(psus, 2):
            var += (1 - pi[i] - pi[j] + p2) * (t[i] - t[j]) ** 2 / (n - 1)
        if second_stage:
            for key, p in psus:
                values, m = p["_z"].to_numpy(), len(p)
                var += pi[key] * m / (m - 1) * np.sum((values - values.mean()) ** 2)
    return var


@pytest.mark.parametrize("second_stage", [False, True])
def test_pps_first_stage_is_hartley_rao_by_pairs(second_stage):
    frame = _sample()
    design = Design(frame, weight="w", strata="stratum", psu="psu", fpc=PpsSizes("stratum", "psu", SIZES),
                    second_stage=second_stage)
    w, y, inside = frame["w"].to_numpy(), frame["y"].to_numpy(), frame["d"].to_numpy()
    tot = design.total("y").iloc[0]
    assert tot["se"] ** 2 == pytest.approx(_hartley_rao(frame, w * y, second_stage=second_stage), rel=1e-12)
    mean = np.sum(w * y) / w.sum()
    row = design.mean("y").iloc[0]
    assert row["se"] ** 2 == pytest.approx(
        _hartley_rao(frame, w * (y - mean) / w.sum(), second_stage=second_stage), rel=1e-12)
    dmean = np.sum((w * y)[inside]) / w[inside].sum()
    z = np.where(inside, w * (y - dmean) / w[inside].sum(), 0.0)
    got = design.mean("y", by="d").set_index("d").loc[True]
    assert got["se"] ** 2 == pytest.approx(_hartley_rao(frame, z, second_stage=second_stage), rel=1e-12)
    # it differs from the equal-probability fpc, whose 1 - n/N ignores the unequal pi
    srs = Design(frame, weight="w", strata="stratum", psu="psu", fpc=PsuCounts("stratum", {"a": 10, "b": 5}),
                 second_stage=second_stage).mean("y").iloc[0]
    assert abs(srs["se"] / row["se"] - 1) > 1e-3


def test_equal_sizes_give_the_equal_probability_fpc():
    frame = _sample()
    equal = {k: dict.fromkeys(v, 50.0) for k, v in SIZES.items()}
    for second_stage in (False, True):
        kw = {"weight": "w", "strata": "stratum", "psu": "psu", "second_stage": second_stage,
              "df": "satterthwaite"}
        pps = Design(frame, fpc=PpsSizes("stratum", "psu", equal), **kw).mean("y", by="d")
        fpc = Design(frame, fpc=PsuCounts("stratum", {"a": 10, "b": 5}), **kw).mean("y", by="d")
        pd.testing.assert_frame_equal(pps, fpc, rtol=1e-12)


def test_pps_sizes_must_cover_every_sampled_psu():
    frame = _sample()
    with pytest.raises(DesignInvalid, match="no PPS size"):
        Design(frame, weight="w", strata="stratum", psu="psu",
               fpc=PpsSizes("stratum", "psu", {"a": SIZES["a"], "b": {"b0": 1.0}}))
    with pytest.raises(DesignInvalid, match="positive"):
        Design(frame, weight="w", strata="stratum", psu="psu",
               fpc=PpsSizes("stratum", "psu", {"a": SIZES["a"], "b": dict.fromkeys(SIZES["b"], 0.0)}))


def test_census_pps_holds_every_commune_of_each_district():
    pps = census_pps()
    places = census_communes()
    assert sum(len(units) for units in pps.sizes.values()) == len(places) == 85
    assert sum(sum(units.values()) for units in pps.sizes.values()) == pytest.approx(
        places["adult_population"].sum(), rel=1e-12)


def _components(frame, z):
    """Per stratum the between-PSU term (n_h - 1 df) and per PSU the within term (m_i - 1 df), R's
    multistage estimator with f_h = n_h / N_h (N: a 10, b 5)."""
    parts = []
    for stratum, part in frame.assign(_z=z).groupby("stratum"):
        psus = [p["_z"].to_numpy() for _, p in part.groupby("psu")]
        n, f = len(psus), len(psus) / {"a": 10, "b": 5}[stratum]
        t = np.array([p.sum() for p in psus])
        parts.append(((1 - f) * n / (n - 1) * np.sum((t - t.mean()) ** 2), n - 1))
        parts += [(f * len(p) / (len(p) - 1) * np.sum((p - p.mean()) ** 2), len(p) - 1) for p in psus]
    return [(c, d) for c, d in parts if c > 0]


def test_corrected_satterthwaite_removes_the_plug_in_bias():
    frame = _sample()
    w, y = frame["w"].to_numpy(), frame["y"].to_numpy()
    mean = np.sum(w * y) / w.sum()
    parts = _components(frame, w * (y - mean) / w.sum())
    total = sum(c for c, _ in parts)
    plug_in = total**2 / sum(c**2 / d for c, d in parts)
    corrected = total**2 / sum(c**2 / (d + 2) for c, d in parts) - 2
    kw = {"weight": "w", "strata": "stratum", "psu": "psu", "fpc": PsuCounts("stratum", {"a": 10, "b": 5}),
          "second_stage": True}
    assert Design(frame, df="satterthwaite", **kw).mean("y")["df"].item() == int(np.floor(plug_in))
    got = Design(frame, df="satterthwaite-corrected", **kw).mean("y")["df"].item()
    assert got == int(np.floor(corrected))
    assert corrected > plug_in
    # a single component keeps its own df exactly: one stratum, one stage, 4 PSUs -> 3
    one = frame[frame["stratum"] == "a"].reset_index(drop=True)
    for rule in ("satterthwaite", "satterthwaite-corrected"):
        assert Design(one, weight="w", strata="stratum", psu="psu", df=rule).mean("y")["df"].item() == 3


def test_report_levels_and_changes_use_the_census_pps_first_stage():
    # three districts of the census, 2 to 4 of their communes, two rounds
    rng = np.random.default_rng(7)
    places = census_communes()
    rows = []
    for r in (2017, 2018):
        for k, code in enumerate(sorted(places["district_code"].unique())[:3]):
            for c in places.loc[places["district_code"] == code, "commune_key"].to_numpy()[: 2 + k]:
                rows += [{"round": r, "stratum": code, "psu": c, "district_code": code,
                          "weight": rng.uniform(50, 150), "knowledge": rng.random()} for _ in range(6)]
    frame = pd.DataFrame(rows)
    sizes = {code: dict(zip(g["commune_key"], g["adult_population"], strict=True))
             for code, g in places.groupby("district_code")}
    levels = round_levels(frame, indicators=["knowledge"], rounds=[2018]).set_index("district_code")
    this = frame[frame["round"] == 2018].reset_index(drop=True)
    w, y = this["weight"].to_numpy(), this["knowledge"].to_numpy()
    for code, row in levels.drop(index="all").iterrows():
        inside = (this["district_code"] == code).to_numpy()
        mean = np.sum((w * y)[inside]) / w[inside].sum()
        z = np.where(inside, w * (y - mean) / w[inside].sum(), 0.0)
        assert row["se"] ** 2 == pytest.approx(_hartley_rao(this, z, sizes, second_stage=True), rel=1e-12)
    mean = np.sum(w * y) / w.sum()
    z = w * (y - mean) / w.sum()
    assert levels.loc["all", "se"] ** 2 == pytest.approx(
        _hartley_rao(this, z, sizes, second_stage=True), rel=1e-12)
    # with calibrated=True the city's variance is that of the scores' residuals from their district's
    # score per unit of weight
    calibrated = round_levels(frame, indicators=["knowledge"], rounds=[2018], calibrated=True)
    district = this["district_code"].to_numpy()
    per_weight = {code: z[district == code].sum() / w[district == code].sum() for code in set(district)}
    residual = z - w * np.array([per_weight[code] for code in district])
    assert calibrated.set_index("district_code").loc["all", "se"] ** 2 == pytest.approx(
        _hartley_rao(this, residual, sizes, second_stage=True), rel=1e-12)
    # the pooled design of a change (strata district × round) looks the sizes up from the same columns
    pooled = frame.assign(_stratum=frame["stratum"] + "|" + frame["round"].astype(str),
                          _psu=frame["psu"] + "|" + frame["round"].astype(str))
    out = change(pooled, y="knowledge", round="round", a=2017, b=2018, by="stratum",
                 **report_design(strata="_stratum", psu="_psu")).set_index("stratum")
    first = round_levels(frame, indicators=["knowledge"], rounds=[2017]).set_index("district_code")
    for code in out.index:
        both = levels.loc[code, "se"] ** 2 + first.loc[code, "se"] ** 2
        assert out.loc[code, "se"] ** 2 == pytest.approx(both, rel=1e-10)
