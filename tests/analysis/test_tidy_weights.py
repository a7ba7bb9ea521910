"""Tidy frames, scores and design weights on simulated rounds with known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import population
from analysis import scores
from analysis import tidy
from analysis import weights
from analysis.errors import DesignInvalid
from analysis.errors import PlaceUnknown
from analysis.errors import VariableInvalid
from analysis.errors import WeightsInconsistent
from analysis.survey import Design
from forms import library

from .simulate import simulate


@pytest.fixture(scope="module")
def form():
    return library.load("awareness")


@pytest.fixture(scope="module")
def sample(form):
    subs, people = simulate(1, refusal=0.15, m=16)
    return subs, people


def test_census_adult_population_adds_up_by_district():
    places = population.communes()
    cells = population.census_cells()
    assert len(places) == 85
    bands = pd.DataFrame([b.__dict__ for b in population.read_age_bands()])
    adults = bands[bands["age_band"].isin(population.TARGET_BANDS)].groupby("district_code")["total"].sum()
    by_district = places.groupby("district_code")["adult_population"].sum()
    np.testing.assert_allclose(by_district.loc[adults.index], adults, rtol=1e-12)
    per_commune = cells.groupby("commune_key")["population"].sum()
    np.testing.assert_allclose(per_commune.loc[places["commune_key"]], places["adult_population"], rtol=1e-12)
    assert set(places.loc[places["commune_kind"] == "commune", "area"]) == {"rural"}


def test_respondents_excludes_refusals_but_counts_them(form, sample):
    subs, people = sample
    frame = tidy.respondents(subs, form)
    counts = tidy.response_counts(subs)
    refused = sum(a.get("consent") != "yes" for a in subs["answers"])
    assert refused > 0
    assert len(frame) == len(subs) - refused == len(people)
    assert counts["refusals"].sum() == refused
    assert counts["respondents"].sum() == len(frame)
    assert (frame["stratum"] == frame["district_code"]).all()
    assert (frame["psu"] == frame["commune_key"]).all()
    for column in tidy.PLACE_COLUMNS + ["sex", "age", "education", "knowledge", "knowledge_law",
                                         "signs_known", "aware_signs_3", "hotline_aware", "risk_index",
                                         "risk_exposure", "risk_vulnerability", "risk_coping_gap", "at_risk",
                                         "channels_mobile_team", "reached_any"]:
        assert column in frame.columns, column
    # no free text, no names: only the form's closed answers
    assert not any(c in frame.columns for c in ("remarks", "answers"))


def test_item_scores_follow_the_scoring_keys(form):
    answers = {
        "round": "2019", "consent": "yes",
        "profile": {"sex": "female", "age": 24, "marital": "single", "education": "primary",
                    "occupation": "factory", "district": "926", "commune": "31300",
                    "plan_away": "no", "plan_abroad": "no"},
        "knowledge": {"heard": "yes", "sign_job_abroad": "true", "sign_marriage_broker": "true",
                      "sign_keep_papers": "true", "sign_debt": "dont_know",
                      "form_forced_labour": "true", "form_marriage": "true", "form_cross_border": "true",
                      "form_organ": "true", "form_adoption": "true", "form_legal_export": "false",
                      "law_exists": "yes", "law_victim": "false", "law_punish": "dont_know",
                      "hotline": "18001567", "hotline_free": "true",
                      "report_where": ["police", "hotline"], "day": "26_06", "respond": "check"},
        "risk": {"risk_approached": "yes", "risk_papers": "no", "risk_debt": "yes",
                 "risk_lost_contact": "no"},
        "exposure": {"heard_any": "no"},
    }
    commune = population.communes().query("district_code == '926'").iloc[0]["commune_key"]
    answers["profile"]["commune"] = commune
    subs = pd.DataFrame([{"submission_id": "a", "round": 2019, "commune_key": commune,
                          "district_code": "926", "answers": answers}])
    row = tidy.respondents(subs, form).iloc[0]
    assert row["signs_known"] == 2  # keep_papers keyed "false"; debt don't know
    assert not row["aware_signs_3"]
    assert row["knowledge_signs"] == 0.5
    assert row["knowledge_law"] == pytest.approx(1 / 3)
    assert row["knowledge_report"] == pytest.approx(2 / 5)
    assert row["knowledge_hotline"] == 1.0 and row["hotline_aware"]
    assert row["risk_broker"] == 0.0  # skipped by the form's logic: no plan to migrate
    assert row["risk_exposure"] == pytest.approx(1 / 3)  # approached only
    assert row["risk_vulnerability"] == pytest.approx(1 / 3)  # debt only
    assert row["risk_coping_gap"] == pytest.approx(1 - (1 + 1 + 0.4) / 3)
    assert row["risk_index"] == pytest.approx((1 / 3 * 1 / 3 * 0.2) ** (1 / 3))
    assert not row["at_risk"]
    assert not row["channels_mobile_team"] and not row["reached_any"]
    items = scores.knowledge_items(form)
    assert row["knowledge"] == pytest.approx(
        np.mean([row[i.name] / i.max_points for i in items]))


def test_unknown_commune_and_wrong_district_raise(form, sample):
    subs = sample[0].head(3).copy()
    bad = subs.assign(commune_key="99999")
    with pytest.raises(PlaceUnknown) as err:
        tidy.respondents(bad, form)
    assert err.value.code == "place-unknown"
    other = "916" if subs.iloc[0]["district_code"] != "916" else "917"
    with pytest.raises(PlaceUnknown):
        tidy.respondents(subs.assign(district_code=other), form)


def test_aware_of_at_least_validates_x(form, sample):
    frame = tidy.respondents(sample[0], form)
    at_least_one = scores.aware_of_at_least(frame, form, 1).astype(bool)
    assert (at_least_one >= frame["aware_signs_3"].astype(bool)).all()
    with pytest.raises(VariableInvalid):
        scores.aware_of_at_least(frame, form, 5)


def test_weights_sum_to_district_adults_exactly_with_nonresponse(form, sample):
    subs, _ = sample
    frame = tidy.respondents(subs, form)
    counts = tidy.response_counts(subs)
    weighted = weights.design_weights(frame, counts=counts)
    check = weights.check_weights(weighted, strict=True)
    assert check["ok"].all() and len(check) == 9
    np.testing.assert_allclose(weighted.groupby("stratum")["weight"].sum(),
                               weights.district_population().sort_index(), rtol=1e-12)
    # formula: w = M_h / (n_h m_i)
    table = weights.weight_table(frame, counts=counts)
    np.testing.assert_allclose(table["weight"], table["M_h"] / (table["n_h"] * table["respondents"]))
    # base weights before the refusal adjustment fall short by the response rate: the check says so
    base = weights.design_weights(frame, counts=counts, nonresponse=False)
    with pytest.raises(WeightsInconsistent) as err:
        weights.check_weights(base, strict=True)
    assert err.value.code == "weights-inconsistent"
    by_district = counts.groupby("district_code")
    rate = by_district["respondents"].sum() / by_district["attempted"].sum()
    got = base.groupby("stratum")["weight"].sum() / weights.district_population()
    np.testing.assert_allclose(got.loc[rate.index], rate, rtol=0.2)


def test_srs_selection_is_calibrated_on_request(form, sample):
    frame = tidy.respondents(sample[0], form)
    srs = weights.design_weights(frame, selection="srs")
    assert not weights.check_weights(srs)["ok"].all()
    calibrated = weights.design_weights(frame, selection="srs", calibrate=True)
    assert weights.check_weights(calibrated)["ok"].all()
    with pytest.raises(DesignInvalid):
        weights.design_weights(frame, selection="bernoulli")


def test_weighted_mean_recovers_known_prevalence_by_area(form):
    # truth: hotline awareness 0.6 in urban communes, 0.2 in rural ones
    subs, people = simulate(7, n_per_district=4, m=25,
                            hotline=lambda p: 0.6 if p["area"] == "urban" else 0.2)
    frame = weights.design_weights(tidy.respondents(subs, form))
    design = Design(frame, weight="weight", strata="stratum", psu="psu")
    est = design.proportion("hotline_aware", by="area").set_index("area")
    for area, truth in (("urban", 0.6), ("rural", 0.2)):
        row = est.loc[area]
        assert row["ci_low"] <= truth <= row["ci_high"], (area, row.to_dict())
        assert abs(row["estimate"] - truth) < 3 * row["se"] + 1e-9
    assert abs(est.loc["urban", "estimate"] - est.loc["rural", "estimate"]) > 0.25
