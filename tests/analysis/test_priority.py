"""Prioritisation: planted need found, equal truths not strictly ordered, discounts, small cells, reach."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import priority
from analysis import tidy
from analysis import weights
from analysis.disclosure import suppress_small
from analysis.errors import VariableInvalid
from analysis.levels import round_levels
from forms import library

from .simulate import simulate


@pytest.fixture(scope="module")
def form():
    return library.load("awareness")


def planted(form, seed=3):
    # Phong Điền (926) knows far less and is far more at risk than the rest
    subs, _ = simulate(seed, n_per_district=4, m=15, district_shift={"926": -2.5},
                       risk=lambda p: 0.7 if p["district_code"] == "926" else 0.25)
    return weights.design_weights(tidy.respondents(subs, form))


def table(**columns):
    n = len(next(iter(columns.values())))
    base = {"population": 1000.0, "population_total": 1300.0, "knowledge": 0.5, "knowledge_se": 0.05,
            "risk": 0.3, "risk_se": 0.05, "reached_recent": 0.0}
    frame = pd.DataFrame({k: np.full(n, v) for k, v in base.items()})
    for k, v in columns.items():
        frame[k] = v
    return frame


def test_planted_district_ranks_first_with_probability_near_one(form):
    frame = planted(form)
    out = priority.prioritise(frame, year=2019, level="district", k=1)
    top = out.iloc[0]
    assert top["district_code"] == "926"
    assert top["p_top_k"] > 0.95 and top["tier"] == "highest"
    assert out["p_top_k"].sum() == pytest.approx(1.0)
    # the reasons add what the columns do not: the need's size and the likely ranks, not the figures
    assert top["reasons"].startswith("rural; about ")
    assert "adults at risk with little knowledge" in top["reasons"] and "%" not in top["reasons"]
    assert "rank 1 in nearly every draw" in top["reasons"]
    assert "no outreach recorded" in top["reasons"]
    # the same at commune level, on the small-area estimates: in truth the five largest Phong
    # Điền communes have the five largest needs; sampled or not, they head the list
    communes = priority.prioritise(frame, year=2019, level="commune", k=5)
    assert len(communes) == 85
    assert (communes.head(5)["district_code"] == "926").all()
    assert communes.iloc[0]["p_top_k"] > 0.9 and communes.iloc[0]["tier"] == "highest"
    assert set(communes["source"]) == {"small-area", "model"}
    model = communes[communes["source"] == "model"].iloc[0]
    assert model["reasons"].endswith("no interviews here: model estimate")
    assert model["reasons_vi"].endswith("không có phỏng vấn ở đây: ước lượng theo mô hình")
    # the estimates are benchmarked: adult-weighted commune means give the district's
    for name in ("knowledge", "risk", "hotline"):
        mean = (communes[name] * communes["population"]).groupby(communes["district_code"]).sum() / \
            communes.groupby("district_code")["population"].sum()
        assert mean["926"] == pytest.approx(out.set_index("district_code").loc["926", name], abs=1e-9)


def test_identical_truth_gives_near_equal_probabilities_not_a_strict_order():
    # one clear first, two identical places competing for the second slot of the top 2
    places = table(population=[5000.0, 1000.0, 1000.0, 300.0, 200.0])
    ranked = priority.rank_by_need(places.assign(name=list("ABCDE")), k=2, seed=1).set_index("name")
    assert ranked.loc["A", "p_top_k"] == pytest.approx(1.0)
    assert abs(ranked.loc["B", "p_top_k"] - ranked.loc["C", "p_top_k"]) < 0.06
    assert 0.35 < ranked.loc["B", "p_top_k"] < 0.65
    assert ranked.loc["B", "tier"] == ranked.loc["C", "tier"] == "high"
    assert ranked.loc["E", "tier"] == "lower"
    assert ranked["p_top_k"].sum() == pytest.approx(2.0)


def test_bootstrap_draws_with_the_tails_of_each_places_interval():
    # knowledge 0.5 ± se 0.05 on t(3) for A, on the normal for B (no df) and C (df NaN); risk exact:
    # the need's 90% interval is population × (1 − K) × risk at K's 5% and 95% quantiles
    places = table(risk_se=[0.0, 0.0, 0.0], knowledge_df=[3.0, np.inf, np.nan])
    out = priority.rank_by_need(places.assign(name=list("ABC")), k=1, params=priority.NeedParameters(
        draws=40_000), seed=2).set_index("name")
    for name, q in (("A", stats.t.ppf(0.95, 3)), ("B", stats.norm.ppf(0.95)), ("C", stats.norm.ppf(0.95))):
        assert out.loc[name, "need_high"] == pytest.approx(1000 * (0.5 + q * 0.05) * 0.3, rel=0.01)
        assert out.loc[name, "need_low"] == pytest.approx(1000 * (0.5 - q * 0.05) * 0.3, rel=0.01)


def test_district_figures_are_the_levels_tables(form):
    frame = planted(form)
    places = priority.place_estimates(frame, year=2019, level="district").set_index("district_code")
    levels = round_levels(frame, indicators=["knowledge", "hotline_aware"], rounds=[2019]).set_index(
        ["district_code", "indicator"])
    for name, indicator in (("knowledge", "knowledge"), ("hotline", "hotline_aware")):
        for code, row in places.iterrows():
            level = levels.loc[(code, indicator)]
            assert row[f"{name}_se"] == pytest.approx(level["se"], rel=1e-12)
            assert row[f"{name}_low"] == pytest.approx(level["ci_low"], rel=1e-12)
            assert row[f"{name}_df"] == level["df"]


def test_recent_outreach_discounts_need_by_at_most_half():
    places = table(population=[1000.0, 1000.0, 1000.0], reached_recent=[0.0, 650.0, 10_000.0])
    out = priority.rank_by_need(places.assign(name=list("ABC")), k=1).set_index("name")
    assert out.loc["B", "discount"] == pytest.approx(1 - 0.5 * 650 / 1300)
    assert out.loc["C", "discount"] == pytest.approx(0.5)
    assert out.loc["C", "need"] == pytest.approx(0.5 * out.loc["A", "need"])
    assert out.loc["A", "need"] == pytest.approx(1000 * 0.5 * 0.3)
    with pytest.raises(VariableInvalid):
        priority.rank_by_need(places, k=3)


def test_reasons_name_the_last_outreach_and_small_communes_are_withheld(form):
    subs, _ = simulate(4, n_per_district=3, m=12)
    small = subs["commune_key"] == subs["commune_key"].iloc[0]
    keep = ~small | (subs.groupby("commune_key").cumcount() < 6)
    frame = weights.design_weights(tidy.respondents(subs[keep], form))
    commune = subs["commune_key"].iloc[0]
    log = pd.DataFrame({"submission_id": ["a1"], "answers": [{
        "activity_date": "2018-07-30", "level": "commune", "district": subs["district_code"].iloc[0],
        "communes": [commune], "activity_type": "day_30_july", "target_groups": ["rural_remote"],
        "people_reached": 300, "reach_basis": "estimated", "organiser": "commune_committee"}]})
    acts = tidy.activities(log, library.load("outreach"))
    exp = tidy.exposure(acts, rounds=[2018, 2019, 2020])
    frame["round"] = 2020
    out = priority.prioritise(frame, exp, year=2020, level="commune", k=5).set_index("commune_key")
    row = out.loc[commune]
    assert row["n"] == 6 and row["suppressed"]
    assert np.isnan(row["knowledge"]) and np.isnan(row["need"])
    assert "fewer than 10 respondents" in row["reasons"]
    assert "no outreach since 2018" in row["reasons"]
    assert row["tier"] in priority.TIERS
    assert "dưới 10 người trả lời" in row["reasons_vi"]
    assert "không có hoạt động truyền thông từ 2018" in row["reasons_vi"]
    others = out[(out["source"] == "small-area") & (out["n"] >= 10)]
    assert len(others) >= 20
    assert not others["suppressed"].any() and others["knowledge"].notna().all()


def test_suppress_small_blanks_small_cells_only():
    frame = pd.DataFrame({"estimate": [0.5, 0.2], "se": [0.1, 0.1], "n": [9, 10]})
    out = suppress_small(frame)
    assert out["suppressed"].tolist() == [True, False]
    assert np.isnan(out.loc[0, "estimate"]) and out.loc[1, "estimate"] == 0.2
    assert suppress_small(frame, min_n=5)["suppressed"].tolist() == [False, False]
    with pytest.raises(VariableInvalid):
        suppress_small(frame, min_n=0)


def test_channel_reach_recovers_known_shares_by_group(form):
    def channels(p):
        target = p["area"] == "rural" and p["sex"] == "female" and 18 <= p["age"] <= 34
        return {c: 0.1 for c in ("newspaper", "family_friends")} | {"mobile_team": 0.8 if target else 0.1}

    subs, _ = simulate(8, n_per_district=4, m=30, heard=1.0, channel_p=channels)
    frame = weights.design_weights(tidy.respondents(subs, form))
    reach = priority.channel_reach(frame).set_index(["group", "channel"])
    row = reach.loc[("rural_women_marriage_age", "mobile_team")]
    assert row["ci_low"] <= 0.8 <= row["ci_high"] and not row["suppressed"]
    other = reach.loc[("all", "newspaper")]
    assert other["ci_low"] <= 0.1 <= other["ci_high"]
    assert reach.loc[("rural_women_marriage_age", "mobile_team"), "estimate"] > 0.6
    assert set(reach.index.get_level_values("group")) >= {"all", "rural", "women_marriage_age"}
