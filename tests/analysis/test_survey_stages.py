"""The reports' design convention, checked by hand: first-stage fpc with the second stage's variance
(R's multistage estimator), fpc looked up from the census, and each domain's own degrees of freedom
in levels, changes and the DiD regression (R's ``degf`` of the subset design)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.change import change
from analysis.change import did
from analysis.errors import DesignInvalid
from analysis.levels import census_psus
from analysis.levels import differences
from analysis.levels import report_design
from analysis.levels import round_levels
from analysis.population import communes as census_communes
from analysis.survey import Design
from analysis.survey import PpsSizes
from analysis.survey import PsuCounts


def _two_stage(seed=5):
    """Strata a (4 of 10 PSUs) and b (3 of 5), 3 to 6 respondents per PSU, weights varying by PSU."""
    rng = np.random.default_rng(seed)
    rows = []
    for stratum, sampled, population in (("a", 4, 10.0), ("b", 3, 5.0)):
        for j in range(sampled):
            w = rng.uniform(5, 15)
            for _ in range(rng.integers(3, 7)):
                rows.append({"stratum": stratum, "psu": f"{stratum}{j}", "N": population, "w": w,
                             "y": rng.normal(2 + j, 1), "d": rng.random() < 0.5})
    return pd.DataFrame(rows)


def _components(frame, z, strata="stratum", psu="psu", fpc="N"):
    """R's ``svydesign(ids = ~psu + person, fpc = ~N + M)``, M → ∞, by explicit loops: per stratum
    (1 - f_h) n_h/(n_h - 1) sum_i (t_i - mean t)^2 with n_h - 1 df, and per PSU f_h m_i/(m_i - 1)
    sum_j (z_ij - mean_i z)^2 with m_i - 1 df. Returns (variance, Satterthwaite df)."""
    parts = []
    for _, stratum in frame.assign(_z=z).groupby(strata):
        psus = [part["_z"].to_numpy() for _, part in stratum.groupby(psu)]
        n_h, f_h = len(psus), len(psus) / stratum[fpc].iloc[0]
        t = np.array([p.sum() for p in psus])
        parts.append(((1 - f_h) * n_h / (n_h - 1) * ((t - t.mean()) ** 2).sum(), n_h - 1))
        for p in psus:
            m = len(p)
            parts.append((f_h * m / (m - 1) * ((p - p.mean()) ** 2).sum(), m - 1))
    var = sum(c for c, _ in parts)
    return var, var**2 / sum(c**2 / d for c, d in parts if c > 0)


def _multistage_variance(frame, z):
    return _components(frame, z)[0]


def test_second_stage_adds_the_within_psu_variance_times_the_sampling_fraction():
    frame = _two_stage()
    design = Design(frame, weight="w", strata="stratum", psu="psu", fpc="N", second_stage=True)
    w, y = frame["w"].to_numpy(), frame["y"].to_numpy()
    mean = np.sum(w * y) / w.sum()
    row = design.mean("y").iloc[0]
    assert row["estimate"] == pytest.approx(mean, rel=1e-14)
    assert row["se"] ** 2 == pytest.approx(_multistage_variance(frame, w * (y - mean) / w.sum()), rel=1e-12)
    tot = design.total("y").iloc[0]
    assert tot["se"] ** 2 == pytest.approx(_multistage_variance(frame, w * y), rel=1e-12)
    # a domain: zero scores outside it, the same formula
    inside = frame["d"].to_numpy()
    dmean = np.sum((w * y)[inside]) / w[inside].sum()
    z = np.where(inside, w * (y - dmean) / w[inside].sum(), 0.0)
    got = design.mean("y", by="d").set_index("d").loc[True]
    assert got["se"] ** 2 == pytest.approx(_multistage_variance(frame, z), rel=1e-12)
    # one stage with an fpc (R's ``ids = ~psu, fpc = ~N``) shrinks the within part too: smaller here
    one = Design(frame, weight="w", strata="stratum", psu="psu", fpc="N").mean("y").iloc[0]
    assert one["se"] < row["se"]


def test_second_stage_without_an_fpc_is_the_with_replacement_variance():
    frame = _two_stage()
    plain = Design(frame, weight="w", strata="stratum", psu="psu").mean("y", by="d")
    staged = Design(frame, weight="w", strata="stratum", psu="psu", second_stage=True).mean("y", by="d")
    pd.testing.assert_frame_equal(plain, staged)
    with pytest.raises(DesignInvalid, match="psu"):
        Design(frame, weight="w", strata="stratum", fpc="N", second_stage=True)


def test_psu_counts_are_an_fpc_column_looked_up_elsewhere():
    frame = _two_stage()
    column = Design(frame, weight="w", strata="stratum", psu="psu", fpc="N", second_stage=True)
    looked_up = Design(frame.drop(columns="N"), weight="w", strata="stratum", psu="psu",
                       fpc=PsuCounts("stratum", {"a": 10, "b": 5}), second_stage=True)
    pd.testing.assert_frame_equal(column.mean("y", by="d"), looked_up.mean("y", by="d"))
    with pytest.raises(DesignInvalid, match="no population PSU count"):
        Design(frame, weight="w", strata="stratum", psu="psu", fpc=PsuCounts("stratum", {"a": 10}))
    with pytest.raises(DesignInvalid, match="below the sampled count"):
        Design(frame, weight="w", strata="stratum", psu="psu", fpc=PsuCounts("stratum", {"a": 10, "b": 2}))


def _rounds(seed=7):
    """Three rounds over the census's first three districts: 2 to 4 communes each, 6 people each."""
    rng = np.random.default_rng(seed)
    places = census_communes()
    districts = sorted(places["district_code"].unique())[:3]
    rows = []
    for r in (2017, 2018, 2019):
        for k, code in enumerate(districts):
            communes = places.loc[places["district_code"] == code, "commune_key"].to_numpy()[: 2 + k]
            for c in communes:
                reached = int(c == communes[0])
                for _ in range(6):
                    rows.append({"round": r, "stratum": code, "psu": c, "district_code": code,
                                 "commune_key": c,
                                 "weight": rng.uniform(50, 150), "knowledge": rng.random(),
                                 "hotline_aware": int(rng.random() < 0.3), "reached": reached})
    return pd.DataFrame(rows), districts


def test_satterthwaite_df_of_the_variance_components():
    frame = _two_stage()
    design = Design(frame, weight="w", strata="stratum", psu="psu", fpc="N", second_stage=True,
                    df="satterthwaite")
    w, y, inside = frame["w"].to_numpy(), frame["y"].to_numpy(), frame["d"].to_numpy()
    mean = np.sum(w * y) / w.sum()
    _, df = _components(frame, w * (y - mean) / w.sum())
    assert design.mean("y")["df"].item() == int(np.floor(df))
    dmean = np.sum((w * y)[inside]) / w[inside].sum()
    _, df = _components(frame, np.where(inside, w * (y - dmean) / w[inside].sum(), 0.0))
    row = design.mean("y", by="d").set_index("d").loc[True]
    assert row["df"] == int(np.floor(df))
    half = stats.t.ppf(0.975, row["df"]) * row["se"]
    assert row["ci_high"] - row["estimate"] == pytest.approx(half, rel=1e-9)
    # without a second stage, one stratum's df is its PSUs minus one, as the domain rule's
    one = frame[frame["stratum"] == "a"].reset_index(drop=True)
    for rule in ("domain", "satterthwaite"):
        assert Design(one, weight="w", strata="stratum", psu="psu", df=rule).mean("y")["df"].item() == 3
    # and over several strata no more than the domain's
    both = Design(frame, weight="w", strata="stratum", psu="psu", df="satterthwaite").mean("y")["df"].item()
    assert 1 <= both <= 7 - 2


def test_levels_with_the_census_fpc_and_satterthwaite_df():
    frame, districts = _rounds()
    # the plug-in Satterthwaite df, checked by hand (the reports' pooled df: test_pooled_satterthwaite_df_...)
    levels = round_levels(frame, indicators=["knowledge", "hotline_aware"], rounds=[2018],
                          df="satterthwaite", fpc=census_psus("stratum"))
    levels = levels.set_index(["district_code", "indicator"])
    # the same numbers as a Design with the report's options, and R's fpc = communes in the district
    this = frame[frame["round"] == 2018].reset_index(drop=True)
    counts = census_communes().groupby("district_code").size()
    with_n = this.assign(N=this["district_code"].map(counts).astype(float))
    by_hand = Design(with_n, weight="weight", strata="stratum", psu="psu", fpc="N", second_stage=True,
                     df="satterthwaite", lonely_psu="adjust").mean("knowledge", by="stratum")
    by_hand = by_hand.set_index("stratum")
    w, y = this["weight"].to_numpy(), this["knowledge"].to_numpy()
    for code in districts:
        row = levels.loc[(code, "knowledge")]
        assert row["se"] == pytest.approx(by_hand.loc[code, "se"], rel=1e-12)
        inside = (this["district_code"] == code).to_numpy()
        mean = np.sum((w * y)[inside]) / w[inside].sum()
        var, df = _components(with_n, np.where(inside, w * (y - mean) / w[inside].sum(), 0.0))
        assert row["se"] ** 2 == pytest.approx(var, rel=1e-12) and row["df"] == int(np.floor(df))
        half = stats.t.ppf(0.975, row["df"]) * row["se"]
        assert row["ci_high"] - row["estimate"] == pytest.approx(half, rel=1e-9)
    # R's svyby + svyciprop: each domain's own PSUs minus its strata
    domain = round_levels(frame, indicators=["knowledge"], rounds=[2018], df="domain").set_index(
        "district_code")
    for k, code in enumerate(districts):
        assert domain.loc[code, "df"] == 2 + k - 1
    assert domain.loc["all", "df"] == (2 + 3 + 4) - 3
    # the whole design's df and the with-replacement variance stay one option away
    old = round_levels(frame, indicators=["knowledge"], rounds=[2018], df="design", fpc=None,
                       second_stage=False).set_index("district_code")
    assert (old["df"] == (2 + 3 + 4) - 3).all()
    plain = Design(this, weight="weight", strata="stratum", psu="psu", lonely_psu="adjust")
    assert old.loc[districts[0], "se"] == pytest.approx(
        plain.mean("knowledge", by="stratum")["se"].iloc[0], rel=1e-12)
    # the reports' first stage is the PPS draw (Hartley–Rao, tests/analysis/test_survey_pps.py), and their df
    # the Satterthwaite df with the round's pooled between/within ratio
    assert isinstance(report_design()["fpc"], PpsSizes)
    assert report_design()["df"] == "satterthwaite-pooled"
    assert round_levels.__kwdefaults__["df"] == "satterthwaite-pooled"


def test_differences_combine_the_rounds_df_by_welch_or_by_sum():
    levels = pd.DataFrame({"round": [1, 2], "k": ["x", "x"], "estimate": [0.4, 0.5], "se": [0.03, 0.01],
                           "df": [3, 12], "n": [40, 50]})
    welch = differences(levels, a=1, b=2, keys=["k"]).iloc[0]
    va, vb = 0.03**2, 0.01**2
    assert welch["change_df"] == int(np.floor((va + vb) ** 2 / (va**2 / 3 + vb**2 / 12)))
    assert differences(levels, a=1, b=2, keys=["k"], df="sum").iloc[0]["change_df"] == 15
    assert welch["change_se"] == pytest.approx(np.sqrt(va + vb))


def test_change_and_did_count_the_psus_of_their_own_rounds():
    frame, districts = _rounds()
    pooled = frame.assign(_stratum=frame["stratum"] + "|" + frame["round"].astype(str),
                          _psu=frame["psu"] + "|" + frame["round"].astype(str))
    kw = report_design(strata="_stratum", psu="_psu", df="domain")
    out = change(pooled, y="knowledge", round="round", a=2017, b=2018, by="stratum", **kw)
    out = out.set_index("stratum")
    for k, code in enumerate(districts):
        assert out.loc[code, "df"] == 2 * (2 + k) - 2  # both rounds' communes minus two strata
    whole = change(pooled, y="knowledge", round="round", a=2017, b=2018, by="stratum",
                   **dict(kw, df="design"))
    assert (whole["df"] == 3 * 9 - 9).all()  # every round's PSUs, 2019's too
    effect = did(pooled, y="knowledge", round="round", treated="reached", pre=2017, post=2018, **kw).effect
    assert effect["df"].item() == 2 * 9 - 6 + 1 - 4  # R: degf(subset) + 1 - p
    effect = did(pooled, y="knowledge", round="round", treated="reached", pre=2017, post=2018,
                 **dict(kw, df="design")).effect
    assert effect["df"].item() == 3 * 9 - 9 + 1 - 4
    # Satterthwaite df of the change from the scores of round b minus round a (census fpc, by hand)
    sat = change(pooled, y="knowledge", round="round", a=2017, b=2018, by="stratum",
                 **report_design(strata="_stratum", psu="_psu", fpc=census_psus("stratum"),
                                 df="satterthwaite"))
    sat = sat.set_index("stratum")
    counts = census_communes().groupby("district_code").size()
    with_n = pooled.assign(N=pooled["district_code"].map(counts).astype(float))
    w, y = pooled["weight"].to_numpy(), pooled["knowledge"].to_numpy()
    for code in districts:
        z = np.zeros(len(pooled))
        for r, sign in ((2017, -1), (2018, 1)):
            inside = ((pooled["district_code"] == code) & (pooled["round"] == r)).to_numpy()
            mean = np.sum((w * y)[inside]) / w[inside].sum()
            z += sign * np.where(inside, w * (y - mean) / w[inside].sum(), 0.0)
        var, df = _components(with_n, z, strata="_stratum", psu="_psu")
        assert sat.loc[code, "se"] ** 2 == pytest.approx(var, rel=1e-12)
        assert sat.loc[code, "df"] == int(np.floor(df))
    reported = did(pooled, y="knowledge", round="round", treated="reached", pre=2017, post=2018,
                   **report_design(strata="_stratum", psu="_psu")).effect
    assert 1 <= reported["df"].item() < 1000


def _parts(frame, z, strata="stratum", psu="psu", fpc="N"):
    """Per stratum: its between-PSU component (n_h - 1 df) and its PSUs' within components (m_i - 1 df),
    by explicit loops as in ``_components``."""
    out = {}
    for h, stratum in frame.assign(_z=z).groupby(strata):
        psus = [part["_z"].to_numpy() for _, part in stratum.groupby(psu)]
        n_h, f_h = len(psus), len(psus) / stratum[fpc].iloc[0]
        t = np.array([p.sum() for p in psus])
        between = (1 - f_h) * n_h / (n_h - 1) * ((t - t.mean()) ** 2).sum()
        within = [(f_h * len(p) / (len(p) - 1) * ((p - p.mean()) ** 2).sum(), len(p) - 1) for p in psus]
        out[h] = (between, n_h - 1, within)
    return out


def test_pooled_satterthwaite_df_takes_each_strata_between_term_from_the_pooled_ratio():
    """df="satterthwaite-pooled": in the df formula only, a stratum's between term is its within terms
    times the between/within ratio pooled over every stratum (and domain), by hand."""
    frame = _two_stage()
    # small PSU effects, so the within terms weigh in the df and the two rules differ (5, 2 against 4, 3)
    rng = np.random.default_rng(0)
    effects = {p: rng.normal(0, 0.3) for p in frame["psu"].unique()}
    frame["y"] = frame["psu"].map(effects) + rng.normal(0, 1, len(frame))
    design = Design(frame, weight="w", strata="stratum", psu="psu", fpc="N", second_stage=True,
                    df="satterthwaite-pooled")
    w, y = frame["w"].to_numpy(), frame["y"].to_numpy()
    parts = {}
    for h in ("a", "b"):
        inside = (frame["stratum"] == h).to_numpy()
        mean = np.sum((w * y)[inside]) / w[inside].sum()
        parts[h] = _parts(frame, np.where(inside, w * (y - mean) / w[inside].sum(), 0.0))[h]
    within_total = sum(c for _, _, within in parts.values() for c, _ in within)
    ratio = sum(b for b, _, _ in parts.values()) / within_total
    rows = design.mean("y", by="stratum").set_index("stratum")
    for h, (_, df_between, within) in parts.items():
        pooled = ratio * sum(c for c, _ in within)
        df = (pooled + sum(c for c, _ in within)) ** 2 / (
            pooled**2 / df_between + sum(c**2 / d for c, d in within))
        assert rows.loc[h, "df"] == int(np.floor(df))
        # the variance itself is unchanged: only the df is smoothed
        plain = Design(frame, weight="w", strata="stratum", psu="psu", fpc="N", second_stage=True,
                       df="satterthwaite").mean("y", by="stratum").set_index("stratum")
        assert rows.loc[h, "se"] == pytest.approx(plain.loc[h, "se"], rel=1e-12)
    assert rows["df"].tolist() != plain["df"].tolist()


def _strata_coverage(rule, reps=100, seed=1):
    """9 strata, 4 of 10 PSUs each, 50 people per PSU, a small between-PSU variance: coverage of each
    stratum's mean by its 95% interval, with the intervals' df."""
    rng = np.random.default_rng(seed)
    covered, dfs = [], []
    for _ in range(reps):
        rows, truth = [], {}
        for h in range(9):
            mu = rng.uniform(0.4, 0.7)
            u = rng.normal(0, 0.021, 10)
            truth[h] = mu + u.mean()
            for i in rng.choice(10, 4, replace=False):
                rows.append(pd.DataFrame({"stratum": h, "psu": i, "y": mu + u[i] + rng.normal(0, 0.3, 50),
                                          "w": 2.5, "N": 10.0}))
        frame = pd.concat(rows, ignore_index=True)
        est = Design(frame, weight="w", strata="stratum", psu="psu", fpc="N", second_stage=True,
                     df=rule).mean("y", by="stratum")
        t = est["stratum"].map(truth)
        covered.append(((est["ci_low"] <= t) & (t <= est["ci_high"])).to_numpy())
        dfs.append(est["df"].to_numpy())
    return np.concatenate(covered), np.concatenate(dfs)


def test_pooled_df_covers_alike_whatever_the_df_where_the_plug_in_df_does_not():
    """Known truth, 900 intervals: with the plug-in df, intervals given many df (the 4 PSUs happened to
    agree, so the between term came out small and the within terms' df took over) under-cover and those
    given few over-cover; with the pooled ratio a cell's df no longer follows its own noise."""
    plain, plain_df = _strata_coverage("satterthwaite")
    pooled, pooled_df = _strata_coverage("satterthwaite-pooled")
    high = plain_df > np.median(plain_df)
    assert plain[~high].mean() - plain[high].mean() > 0.06
    high = pooled_df > np.median(pooled_df)
    assert abs(pooled[~high].mean() - pooled[high].mean()) < 0.03
    assert 0.93 <= pooled.mean() <= 0.985
