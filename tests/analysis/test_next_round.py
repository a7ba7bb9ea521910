"""The next round's plan: its inclusion probabilities, its draw, its JSON, and the weights it records."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DesignInvalid
from analysis.levels import round_levels
from analysis.next_round import DESIGN_COLUMNS
from analysis.next_round import Plan
from analysis.next_round import PlanParameters
from analysis.next_round import design_columns
from analysis.next_round import draw
from analysis.next_round import inclusion
from analysis.next_round import propose
from analysis.population import communes as census_communes
from analysis.survey import Design
from analysis.survey import PpsSizes
from analysis.weights import design_weights

PLACES = census_communes()
BUDGET = 2000


def last_round(seed=0) -> pd.DataFrame:
    """A stand-in for prioritise(level="commune"): every census commune with a P(top 10), a tier, n."""
    rng = np.random.default_rng(seed)
    p = np.round(rng.beta(0.4, 1.2, len(PLACES)), 4)
    n = np.where(rng.random(len(PLACES)) < 0.45, rng.integers(30, 70, len(PLACES)), 0)
    se = np.where(n > 0, 0.03, 0.06)
    tier = np.where(p >= 0.75, "highest", np.where(p >= 0.25, "high", "lower"))
    return pd.DataFrame({"district_code": PLACES["district_code"], "commune_key": PLACES["commune_key"],
                         "p_top_k": p, "tier": tier, "n": n, "source": np.where(n > 0, "small-area", "model"),
                         "knowledge": 0.55, "knowledge_se": se, "knowledge_low": 0.55 - 1.96 * se,
                         "knowledge_high": 0.55 + 1.96 * se,
                         "knowledge_shrinkage": np.where(n > 0, 0.6, np.nan)})


@pytest.fixture(scope="module")
def plan():
    last = last_round()
    reached = list(PLACES["commune_key"].iloc[[3, 20, 40]])
    certain = [PLACES["commune_key"].iloc[50]]
    return propose(last, year=2019, params=PlanParameters(interviews=BUDGET, seed=7), reached=reached,
                   certain=certain)


def test_the_plan_visits_each_district_its_capacity_with_the_budget(plan):
    frame = plan.frame
    assert len(frame) == len(PLACES) and set(frame["commune_key"]) == set(PLACES["commune_key"])
    pi_sum = frame.groupby("district_code")["pi"].sum()
    assert np.allclose(pi_sum, 4.0)  # sum of inclusion probabilities = n_h
    assert (frame.groupby("district_code")["selected"].sum() == 4).all()
    assert frame["take"].sum() == BUDGET
    chosen = frame[frame["selected"]]
    assert (chosen["take"] >= 15).all() and (frame.loc[~frame["selected"], "take"] == 0).all()
    assert ((frame["pi"] > 0) & (frame["pi"] <= 1)).all()
    assert frame["tilt"].max() / frame["tilt"].min() <= PlanParameters(interviews=1).max_tilt + 1e-12
    assert (plan.districts["interviews"].sum() == BUDGET) and (plan.districts["communes"] == 4).all()
    assert frame["reason"].str.len().min() > 0 and frame["reason_vi"].str.len().min() > 0


def test_forced_communes_are_certainty_units(plan):
    forced = plan.frame[plan.frame["commune_key"] == PLACES["commune_key"].iloc[50]].iloc[0]
    assert forced["pi"] == 1.0 and forced["certainty"] and forced["selected"]
    assert forced["reason"].startswith("chosen by the planner")


def test_inclusion_probabilities_match_the_draws_frequencies(plan):
    """2,000 draws of one district with tilted sizes and a forced unit: each commune's frequency is its pi."""
    rows = plan.frame["district_code"] == plan.frame["district_code"].iloc[0]  # 13 communes
    adults = plan.frame.loc[rows, "adults"].to_numpy()
    size = plan.frame.loc[rows, "size"].to_numpy()
    forced = np.zeros(len(size), dtype=bool)
    forced[5] = True
    pi, certain = inclusion(size, 5, forced)
    assert certain[5] and pi.sum() == pytest.approx(5.0) and (pi[~certain] < 1).all()
    rng = np.random.default_rng(11)
    draws = 2000
    counts = np.zeros(len(size))
    for _ in range(draws):
        selected = draw(rng, size, pi, certain)
        assert selected.sum() == 5
        counts += selected
    freq = counts / draws
    se = np.sqrt(pi * (1 - pi) / draws)
    assert np.all(np.abs(freq - pi) <= 4 * se + 1e-12), np.c_[freq, pi]
    # an unequal-probability draw: the tilt moved some pi well away from adults' n M_i / M_h
    plain = 5 * adults / adults.sum()
    assert np.abs(pi[~certain] - plain[~certain]).max() > 0.05


def test_the_horvitz_thompson_totals_of_the_recorded_pi_are_the_districts_adults(plan):
    frame = plan.frame
    adults = frame["adults"] / frame["pi"]
    # in expectation exactly: sum over communes of pi_i · M_i / pi_i
    expected = (frame["pi"] * adults).groupby(frame["district_code"]).sum()
    assert np.allclose(expected, frame.groupby("district_code")["adults"].sum())
    # and the draws' mean total converges to it (500 draws of the same design)
    rng = np.random.default_rng(5)
    rows = frame["district_code"] == frame["district_code"].iloc[0]
    size, pi, certain = (frame.loc[rows, c].to_numpy() for c in ("size", "pi", "certainty"))
    totals = [adults[rows].to_numpy()[draw(rng, size, pi, certain)].sum() for _ in range(500)]
    m_h = frame.loc[rows, "adults"].sum()
    assert abs(np.mean(totals) - m_h) < 4 * np.std(totals) / np.sqrt(500)


def _respondents(plan, refusals=0):
    """Respondent rows of a plan's visited communes (the take minus ``refusals`` each)."""
    rows = []
    chosen = plan.frame[plan.frame["selected"]]
    for r in chosen.itertuples():
        for j in range(int(r.take) - refusals):
            rows.append({"round": plan.year, "district_code": r.district_code, "commune_key": r.commune_key,
                         "stratum": r.district_code, "psu": r.commune_key, "y": float((j * 7919) % 13) / 13})
    counts = chosen.assign(round=plan.year, attempted=chosen["take"])
    counts = counts[["round", "district_code", "commune_key", "attempted"]]
    return pd.DataFrame(rows), counts


def test_weights_from_recorded_pi(plan):
    frame, counts = _respondents(plan, refusals=3)
    weighted = design_weights(design_columns(frame, {plan.year: plan.frame}), counts=counts)
    assert np.array_equal(design_columns(frame, {plan.year: plan})[DESIGN_COLUMNS].to_numpy(),
                          weighted[DESIGN_COLUMNS].to_numpy())  # a Plan itself is read as its frame
    chosen = plan.frame[plan.frame["selected"]].set_index("commune_key")
    per = weighted.groupby("commune_key")["weight"].agg(["sum", "nunique"])
    # M_i / (pi_i · attempted) for each approached person, carried by the respondents: M_i / pi_i per commune
    assert (per["nunique"] == 1).all()
    assert np.allclose(per["sum"], (chosen["adults"] / chosen["pi"]).loc[per.index])
    # without a last round the plan is the fixed design: every weight adds up to the district's adults exactly
    fixed = propose(None, year=2019, params=PlanParameters(interviews=BUDGET, seed=1))
    assert (fixed.frame["tilt"] == 1).all()
    frame, counts = _respondents(fixed)
    weighted = design_weights(design_columns(frame, {2019: fixed.frame}), counts=counts)
    sums = weighted.groupby("district_code")["weight"].sum()
    assert np.allclose(sums, PLACES.groupby("district_code")["adult_population"].sum().loc[sums.index])
    assert np.allclose(weighted["weight"], design_weights(frame, counts=counts)["weight"])


def test_design_columns_change_nothing_on_rounds_of_the_fixed_design(plan):
    frame, counts = _respondents(plan)
    fixed_round = frame.assign(round=2018)
    both = design_columns(fixed_round, {2019: plan.frame})
    assert both[DESIGN_COLUMNS].isna().all().all()
    before = design_weights(fixed_round, counts=counts.assign(round=2018))
    after = design_weights(both, counts=counts.assign(round=2018))
    assert np.array_equal(before["weight"], after["weight"])
    pd.testing.assert_frame_equal(round_levels(before, indicators=["y"], rounds=[2018]),
                                  round_levels(after, indicators=["y"], rounds=[2018]))


def test_certainty_units_contribute_no_first_stage_variance(plan):
    frame, counts = _respondents(plan)
    weighted = design_weights(design_columns(frame, {plan.year: plan.frame}), counts=counts)
    certain = plan.frame.loc[plan.frame["certainty"], "commune_key"]
    drawn = plan.frame.loc[plan.frame["selected"] & ~plan.frame["certainty"], "commune_key"]
    kw = {"weight": "weight", "strata": "stratum", "psu": "psu", "fpc": PpsSizes("stratum", "psu", {}),
          "second_stage": True, "lonely_psu": "adjust"}

    def var(shift_in):
        shift = np.where(weighted["commune_key"].isin(shift_in), 5.0, 0.0)
        shifted = weighted.assign(y=weighted["y"] + shift)
        return Design(shifted, **kw).total("y")["se"].iloc[0]

    base = var([])
    assert var(list(certain)) == pytest.approx(base, rel=1e-9)  # its total is known: no between term
    assert var([drawn.iloc[0]]) > 1.5 * base                    # a drawn commune's total is not


def test_plan_json_round_trips_exactly(plan):
    text = json.dumps(plan.to_json(), allow_nan=False)  # strict JSON: NaN stored as null
    back = Plan.from_json(json.loads(text))
    assert back.year == plan.year and back.params == plan.params
    for name in ("frame", "districts", "gain"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(plan, name))
    per_district = PlanParameters(interviews=10, communes={"916": 3, "917": 2})
    assert PlanParameters.from_json(json.loads(json.dumps(per_district.to_json()))) == per_district


def test_the_gain_table_has_before_and_after_for_communes_districts_and_city(plan):
    gain = plan.gain
    chosen = set(plan.frame.loc[plan.frame["selected"], "commune_key"])
    communes = gain[gain["level"] == "commune"]
    assert set(communes["place"]) == chosen and set(communes["measure"]) == {"width", "wrong_tier"}
    assert set(gain.loc[gain["level"] == "district", "place"]) == set(PLACES["district_code"].astype(str))
    assert (gain["level"] == "city").sum() == 1
    widths = gain[gain["measure"] == "width"]
    assert (widths[["before", "after"]] > 0).all().all()
    wrong = communes[communes["measure"] == "wrong_tier"]
    assert ((wrong["after"] >= 0) & (wrong["after"] <= wrong["before"] + 1e-9)).all()


def test_impossible_requests_are_domain_errors():
    last = last_round()
    with pytest.raises(DesignInvalid, match="at least 15"):
        propose(last, year=2019, params=PlanParameters(interviews=36 * 15 - 1))
    district = PLACES[PLACES["district_code"] == "917"]["commune_key"].tolist()
    with pytest.raises(DesignInvalid, match="forced"):
        propose(last, year=2019, params=PlanParameters(interviews=BUDGET), certain=district[:5])
    with pytest.raises(DesignInvalid, match="census"):
        propose(last, year=2019, params=PlanParameters(interviews=BUDGET), certain=["nowhere"])
    with pytest.raises(DesignInvalid, match="capacity"):
        propose(last, year=2019, params=PlanParameters(interviews=BUDGET, communes={"916": 3}))


def test_a_planners_takes_replace_the_proposals():
    base = propose(last_round(), year=2019, params=PlanParameters(interviews=BUDGET, seed=2))
    key = base.frame.loc[base.frame["selected"], "commune_key"].iloc[0]
    params = PlanParameters(interviews=BUDGET, seed=2)
    edited = propose(last_round(), year=2019, params=params, takes={key: 90})
    assert edited.frame.set_index("commune_key").loc[key, "take"] == 90
    assert edited.frame["take"].sum() == BUDGET
    unvisited = base.frame.loc[~base.frame["selected"], "commune_key"].iloc[0]
    with pytest.raises(DesignInvalid, match="does not visit"):
        propose(last_round(), year=2019, params=params, takes={unvisited: 30})


def test_likely_top_communes_can_be_certainty_units():
    last = last_round()
    params = PlanParameters(interviews=BUDGET, seed=3, certain_top=0.9)
    plan = propose(last, year=2019, params=params)
    top = set(last.loc[last["p_top_k"] >= 0.9, "commune_key"].astype(str))
    frame = plan.frame.set_index("commune_key")
    for _, part in plan.frame.groupby("district_code"):
        ours = part[part["commune_key"].isin(top)]
        # each district keeps at least one drawn visit
        assert ours["certainty"].sum() <= 3
        assert (part["pi"] < 1).any()
    taken = [k for k in top if frame.loc[k, "certainty"]]
    assert taken and all(frame.loc[k, "pi"] == 1 and frame.loc[k, "selected"] for k in taken)
    assert all(frame.loc[k, "reason"].startswith("likely in the top") for k in taken)


def test_a_season_draws_a_round_from_a_plan_with_the_same_truth():
    from analysis.simulation import generate

    plan = propose(last_round(), year=2019, params=PlanParameters(interviews=600, min_take=5, seed=4))
    fixed = generate(seed=9, interviews=1200, rounds=(2018, 2019))
    planned = generate(seed=9, interviews=1200, rounds=(2018, 2019), designs={2019: plan.frame})
    for name, table in fixed.truth.items():
        pd.testing.assert_frame_equal(table, planned.truth[name])
    before = fixed.sample[fixed.sample["round"] == 2018].drop(columns="sub_id").reset_index(drop=True)
    after = planned.sample[planned.sample["round"] == 2018].drop(columns="sub_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)
    drawn = planned.sample[planned.sample["round"] == 2019]
    chosen = plan.frame[plan.frame["selected"]].set_index("commune_key")
    assert drawn.groupby("commune_key").size().to_dict() == chosen["take"].to_dict()
    assert np.allclose(drawn["pi_commune"], drawn["commune_key"].map(chosen["pi"]))
    with pytest.raises(DesignInvalid, match="not generated"):
        generate(seed=9, interviews=600, rounds=(2018,), designs={2019: plan.frame})


@pytest.mark.slow
def test_the_planned_rounds_intervals_cover_the_truth():
    """Three seeds through the reports' code (tests/analysis/planned.py): the planned round's district, city
    and target-group intervals cover the truth, its estimates are unbiased, and intervals 40% narrower would
    not cover."""
    from tests.analysis.planned import run

    tables = run(range(200, 203), interviews=3000)
    cells = tables["cells"]
    planned = cells[cells["design"] == "planned"]
    assert len(planned) == 3 * (9 + 1 + 6) * 3
    assert planned["covered"].mean() >= 0.88, planned.groupby("level")["covered"].mean()
    err = planned["error"]
    assert abs(err.mean()) < 3 * err.std(ddof=1) / np.sqrt(len(err))
    half = (planned["ci_high"] - planned["ci_low"]) / 2 * 0.6
    narrow = (planned["truth"] - planned["estimate"]).abs() <= half
    assert narrow.mean() < 0.85
    communes = tables["communes"]
    uncertain = communes[(communes["design"] == "planned") & communes["uncertain"]]
    assert len(uncertain) > 10 and uncertain["covered"].mean() >= 0.85


@pytest.mark.parametrize("power", [0.0, 0.5, 1.0])
def test_each_district_gets_its_visits_times_its_adults_per_visit_to_the_power(power):
    """district_power a: a district's interviews ∝ v_h^(1−a) · adults_h^a (0: the fixed design's equal
    shares by visits; ½: square-root allocation; 1: proportional to adults), to the rounding."""
    params = PlanParameters(interviews=BUDGET, seed=3, district_power=power)
    plan = propose(last_round(), year=2019, params=params)
    got = plan.frame.groupby("district_code")["take"].sum()
    visits = plan.frame.groupby("district_code")["selected"].sum()
    adults = PLACES.groupby("district_code")["adult_population"].sum()
    share = visits ** (1 - power) * adults ** power
    expected = BUDGET * share / share.sum()
    assert got.sum() == BUDGET
    assert (got - expected.reindex(got.index)).abs().max() <= 1.0
    if power == 0.0:
        assert got.max() - got.min() <= 1  # 4 visits everywhere: the fixed design's equal shares
    else:
        assert got.idxmax() == adults.idxmax()  # the largest district gets the most


def test_district_power_outside_zero_to_one_is_refused():
    with pytest.raises(DesignInvalid, match="district_power"):
        propose(last_round(), year=2019, params=PlanParameters(interviews=BUDGET, district_power=1.5))


def test_a_budget_exactly_at_the_floors_gives_each_its_floor():
    """At a budget equal to the floors' sum float rounding puts some ideal shares a hair under their
    floors; the split gives each exactly its floor (it once divided by zero there, a RuntimeWarning)."""
    from analysis.next_round import _integer_split

    visits = np.array([3, 4, 2, 4, 4])
    shares = np.array([675.7674419474599, 558.2789479750343, 387.29491505187394, 623.9027819391343,
                       591.9027832141105])
    got = _integer_split(680, shares, 40, visits=visits)
    assert got.tolist() == (40 * visits).tolist()
    rng = np.random.default_rng(0)
    for _ in range(2000):
        visits = rng.integers(1, 6, size=rng.integers(2, 8))
        floor = int(rng.integers(1, 60))
        got = _integer_split(int((floor * visits).sum()), rng.random(len(visits)) * 1e3, floor, visits=visits)
        assert got.tolist() == (floor * visits).tolist()


def test_the_spread_term_raises_communes_far_from_their_districts_figure_on_both_sides():
    """Same P(top k) everywhere; knowledge spread around each district's mean: with ``tilt_spread`` the
    communes far above and far below their district's figure get larger tilts than those near it, the
    tilts stay in [1, max_tilt], every district's inclusion probabilities still add up to its visits, and
    the reasons say why. Without it (0) the knowledge changes nothing."""
    last = last_round().assign(p_top_k=0.05, tier="lower", n=50, source="small-area", knowledge_se=0.04)
    rng = np.random.default_rng(3)
    last["knowledge"] = 0.55 + rng.choice([-0.15, -0.01, 0.0, 0.01, 0.15], len(last))
    flat = propose(last, year=2019, params=PlanParameters(interviews=BUDGET, seed=7, tilt_spread=0)).frame
    spread = propose(last, year=2019, params=PlanParameters(interviews=BUDGET, seed=7)).frame
    assert PlanParameters(interviews=1).tilt_spread == 1.5
    base = 1 + 1.5 * 4 * 0.05 * 0.95 + 0.05
    assert np.allclose(flat["tilt"], base)
    # the plan's frame is sorted by district and commune, the stand-in is in census order: join by key
    frame = spread.merge(last[["commune_key", "knowledge"]], on="commune_key", validate="one_to_one")
    district_mean = frame.groupby("district_code")[["knowledge", "adults"]].apply(
        lambda g: np.average(g["knowledge"], weights=g["adults"]))
    gap = (frame["knowledge"] - frame["district_code"].map(district_mean)).to_numpy()
    far, near = np.abs(gap) > 0.1, np.abs(gap) < 0.03
    assert far.sum() > 10 and near.sum() > 10
    assert frame.loc[far, "tilt"].min() > frame.loc[near, "tilt"].max()
    above, below = far & (gap > 0), far & (gap < 0)
    assert frame.loc[above, "tilt"].min() > base and frame.loc[below, "tilt"].min() > base
    assert spread["tilt"].between(1.0, 2.0).all()
    assert np.allclose(spread.groupby("district_code")["pi"].sum(), 4.0)
    assert frame.loc[far, "reason"].str.contains("far from its district's").all()
    assert not frame.loc[near, "reason"].str.contains("far from its district's").any()
    assert frame.loc[far, "reason_vi"].str.contains("khác xa mức chung").all()


def test_a_plan_stored_before_the_spread_term_restores_without_it(plan):
    data = plan.to_json()
    assert data["params"]["tilt_spread"] == 1.5
    del data["params"]["tilt_spread"]
    assert Plan.from_json(json.loads(json.dumps(data))).params.tilt_spread == 0.0
