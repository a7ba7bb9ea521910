"""The season generator: valid documents, the design it claims, and truth the estimators recover."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid

import numpy as np
import pandas as pd
import pytest

from analysis.groups import add_group_columns
from analysis.simulation import Parameters
from analysis.simulation import generate
from analysis.survey import Design
from analysis.tidy import activities as tidy_activities
from analysis.tidy import exposure
from analysis.tidy import respondents
from analysis.tidy import response_counts
from analysis.weights import check_weights
from analysis.weights import design_weights
from analysis.weights import district_population
from forms import library

AWARENESS = library.load("awareness")
OUTREACH = library.load("outreach")
ROUNDS = (2017, 2018, 2019, 2020)


@pytest.fixture(scope="module")
def small():
    return generate(seed=11, interviews=2000)


@pytest.fixture(scope="module")
def large():
    """20,000 interviews: 5,000 a round, 36 communes a round."""
    season = generate(seed=2017, interviews=20000)
    frame = respondents(season.submissions(), AWARENESS)
    frame = frame.merge(season.sample[["sub_id", "weight"]], left_on="submission_id", right_on="sub_id")
    frame = add_group_columns(frame)
    # independent samples per round: strata and PSUs are labelled within round
    frame["stratum_r"] = frame["round"].astype(str) + "/" + frame["stratum"]
    frame["psu_r"] = frame["round"].astype(str) + "/" + frame["psu"]
    return season, frame


def _design(frame):
    return Design(frame, weight="weight", strata="stratum_r", psu="psu_r")


# ------------------------------------------------------------------------------ documents
def test_every_interview_validates_against_its_form_version(small):
    assert {i.version for i in small.interviews} == {AWARENESS.version}
    issues = {i.sub_id: AWARENESS.validate(i.answers) for i in small.interviews}
    assert {k: v for k, v in issues.items() if v} == {}
    refusals = [i.answers for i in small.interviews if i.answers["consent"] == "no"]
    assert refusals and all(set(a) == {"round", "consent"} for a in refusals)


def test_every_activity_validates_against_the_outreach_form(small):
    assert small.activities and {a.version for a in small.activities} == {OUTREACH.version}
    issues = [OUTREACH.validate(a.answers) for a in small.activities]
    assert [i for i in issues if i] == []


def test_interviews_shape(small):
    assert len(small.interviews) == 2000 == len(small.sample)
    ids = [i.sub_id for i in small.interviews]
    assert len(set(ids)) == len(ids) and all(uuid.UUID(s).version == 4 for s in ids)
    assert list(small.sample["sub_id"]) == ids
    assert [i.round for i in small.interviews] == sorted(i.round for i in small.interviews)
    for r in ROUNDS:
        days = [i.day for i in small.interviews if i.round == r]
        assert days == sorted(days) and len(days) == 500
        assert dt.date(r, 10, 1) <= days[0] and days[-1] < dt.date(r, 10, 1) + dt.timedelta(days=56)
    for i in small.interviews:
        assert i.answers["round"] == str(i.round)
        if i.answers["consent"] == "yes":
            assert i.answers["profile"]["commune"] == i.commune_key
            assert i.answers["profile"]["district"] == i.district_code


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    digests = []
    for k in range(2):
        generate(seed=5, interviews=600, rounds=(2017, 2019)).write(tmp_path / str(k))
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted((tmp_path / str(k)).iterdir())})
    assert digests[0] == digests[1]
    assert {"README.md", "sample.csv", "interviews.jsonl", "activities.jsonl", "truth_city.csv",
            "truth_effects.csv"} <= set(digests[0])
    readme = (tmp_path / "0" / "README.md").read_text(encoding="utf-8")
    assert all(f"`{f.name}`" in readme for f in dataclasses.fields(Parameters))
    other = generate(seed=6, interviews=600, rounds=(2017, 2019))
    assert [i.sub_id for i in other.interviews] != [i.sub_id for i in generate(
        seed=5, interviews=600, rounds=(2017, 2019)).interviews]


# ------------------------------------------------------------------------------ design
def test_weights_add_up_to_district_adults_in_every_district_and_round(small):
    respondents_ = small.sample[~small.sample["refused"]]
    check = check_weights(respondents_, weight="weight")
    assert len(check) == 9 * 4
    assert check["relative_difference"].abs().max() < 0.01
    assert small.sample.loc[small.sample["refused"], "weight"].isna().all()
    # before the nonresponse adjustment, the fixed take reproduces M_h with everyone approached
    base = small.sample.groupby(["round", "stratum"])["base_weight"].sum()
    population = district_population()
    assert np.allclose(base.to_numpy(), population.loc[base.index.get_level_values(1)].to_numpy())


def test_weights_are_what_the_product_computes_from_the_submissions(small):
    subs = small.submissions()
    frame = design_weights(respondents(subs, AWARENESS), counts=response_counts(subs), name="product")
    frame = frame.merge(small.sample[["sub_id", "weight"]], left_on="submission_id", right_on="sub_id")
    assert len(frame) == int((~small.sample["refused"]).sum())
    assert np.allclose(frame["product"], frame["weight"], rtol=1e-12)


def test_pps_inclusion_probabilities(small):
    psus = small.sample.drop_duplicates(["round", "psu"])
    assert (psus.groupby(["round", "stratum"]).size() == 4).all()
    population = district_population()
    from analysis.population import communes
    m_i = communes().set_index("commune_key")["adult_population"]
    expected = 4 * m_i.loc[psus["psu"]].to_numpy() / population.loc[psus["stratum"]].to_numpy()
    assert np.allclose(psus["pi_commune"], expected)
    assert not psus["certainty"].any()


def test_certainty_communes_when_n_h_is_large():
    season = generate(seed=3, interviews=2400, rounds=(2018,), params=Parameters(communes_per_district=6))
    psus = season.sample.drop_duplicates("psu")
    assert psus["certainty"].any() and (psus.loc[psus["certainty"], "pi_commune"] == 1).all()
    assert (psus["pi_commune"] <= 1).all()
    check = check_weights(season.sample[~season.sample["refused"]], weight="weight")
    assert check["relative_difference"].abs().max() < 0.01


def test_refusals_at_the_modelled_rate(large):
    season, _ = large
    params = season.params
    for area, rate in (("urban", params.refusal_urban), ("rural", params.refusal_rural)):
        refused = season.sample.loc[season.sample["area"] == area, "refused"]
        se = np.sqrt(rate * (1 - rate) / len(refused))
        assert abs(refused.mean() - rate) < 3 * se, (area, refused.mean(), rate)


def test_too_few_interviews_or_unknown_rounds_are_refused():
    from analysis.errors import DesignInvalid

    with pytest.raises(DesignInvalid):
        generate(seed=1, interviews=20, rounds=(2017,))
    with pytest.raises(DesignInvalid):
        generate(seed=1, interviews=2000, rounds=(2016,))


# ------------------------------------------------------------------------------ outreach
def test_outreach_matches_the_treated_communes(small):
    treated = small.truth["treated"]
    assert set(treated["campaign_year"]) == {2018, 2019}
    assert 0 < len(treated) < 85  # some communes treated, some never
    logged = {(a.answers["communes"][0], a.round, a.answers["activity_type"]) for a in small.activities}
    truth = set(zip(treated["commune_key"], treated["campaign_year"], treated["campaign_channel"],
                    strict=True))
    assert logged == truth
    for a in small.activities:
        assert a.day.isoformat() == a.answers["activity_date"] and a.day.year == a.round
        assert a.day < dt.date(a.round, 10, 1)
    # the product's exposure sees exactly the campaigns of each year
    frame = exposure(tidy_activities(small.outreach_submissions(), OUTREACH), rounds=ROUNDS)
    reached = frame.loc[frame["reached"], ["commune_key", "round"]]
    assert set(map(tuple, reached.to_numpy())) == {(c, y) for c, y, _ in truth}


def test_true_effects_are_stated_and_positive(small):
    effects = small.truth["effects"]
    params = small.params
    assert set(effects["round"]) == {2018, 2019, 2020}
    named = effects[effects["channel"] != "any"]
    assert (named["effect"] > 0).all()
    assert np.allclose(named["treated_knowledge"] - named["untreated_knowledge"], named["effect"])
    # without modifiers for a group, the logit effect is the channel's stated effect
    for row in named.itertuples():
        extras = params.effect_extra.get(row.channel, {})
        assert params.effect[row.channel] + min(0, *extras.values()) - 1e-12 <= row.effect_logit
        highest = params.effect[row.channel] + sum(max(0, v) for v in extras.values())
        assert row.effect_logit <= highest + 1e-12
    # per commune: population-weighted, they give back the pooled effect; one per treated commune
    per = small.truth["effects_by_commune"]
    for r, part in per.groupby("round"):
        pooled = effects[(effects["round"] == r) & (effects["channel"] == "any")].iloc[0]
        for column in ("effect", "treated_knowledge", "untreated_knowledge"):
            mean = np.average(part[column], weights=part["population"])
            assert mean == pytest.approx(pooled[column], rel=1e-12)
        treated = small.truth["treated"]
        assert set(part["commune_key"]) == set(treated.loc[treated["campaign_year"] <= r, "commune_key"])
    # zero effects give zero true effects
    none = generate(seed=11, interviews=400, rounds=(2018,),
                    params=Parameters(effect=dict.fromkeys(params.effect, 0.0), effect_extra={}))
    assert np.allclose(none.truth["effects"]["effect"], 0.0)


# ------------------------------------------------------------------------------ truth
def _compare(estimates: pd.DataFrame, truth: pd.DataFrame, keys: list[str], y: str) -> pd.DataFrame:
    out = estimates.merge(truth[[*keys, y]].rename(columns={y: "truth"}), on=keys, validate="one_to_one")
    assert len(out) == len(estimates)
    out["z"] = (out["estimate"] - out["truth"]) / out["se"]
    out["covered"] = (out["ci_low"] <= out["truth"]) & (out["truth"] <= out["ci_high"])
    return out


def _cells(season, frame, shift=0.0) -> pd.DataFrame:
    design = _design(frame)
    truth = {k: v.assign(**{c: v[c] + shift for c in v.columns if c.startswith(("knowledge", "aware"))})
             for k, v in season.truth.items() if k in ("city", "district", "group")}
    parts = []
    for y in ("knowledge", "knowledge_signs", "knowledge_hotline", "aware_signs_3"):
        parts.append(_compare(design.mean(y, by="round"), truth["city"], ["round"], y))
    parts.append(_compare(design.mean("knowledge", by=["round", "district_code"]), truth["district"],
                          ["round", "district_code"], "knowledge"))
    for group in ("rural", "low_education", "women_marriage_age", "young_people"):
        member = frame.assign(_in=frame[group].fillna(False).astype(bool))
        est = _design(member).mean("knowledge", by=["round", "_in"])
        est = est[est["_in"]].drop(columns="_in")
        parts.append(_compare(est, truth["group"][truth["group"]["group"] == group], ["round"], "knowledge"))
    return pd.concat(parts, ignore_index=True)


def test_design_based_means_recover_the_truth(large):
    season, frame = large
    cells = _cells(season, frame)
    assert len(cells) == 4 * 4 + 36 + 4 * 4
    within = (cells["z"].abs() <= 3).mean()
    coverage = cells["covered"].mean()
    assert within >= 0.95, cells.sort_values("z").to_string()
    assert 0.85 <= coverage <= 1.0
    assert (cells["estimate"] - cells["truth"]).abs().max() < 0.08
    # risk and exposure too, city-wide per round
    for y in ("risk_debt", "risk_broker", "plans_migrate", "reached_any"):
        design = _design(frame.assign(**{y: frame[y].astype("float64")}))
        out = _compare(design.mean(y, by="round"), season.truth["city"], ["round"], y)
        assert (out["z"].abs() <= 3.5).all(), out


def test_the_truth_check_can_fail(large):
    """The same comparison against a truth shifted by 0.03 (about 2 se city-wide) is rejected."""
    season, frame = large
    cells = _cells(season, frame, shift=0.03)
    assert (cells["z"].abs() <= 3).mean() < 0.95 or cells["covered"].mean() < 0.85


def test_truth_tables_are_consistent(small):
    truth = small.truth
    city, district = truth["city"], truth["district"]
    pooled = district.assign(w=district["population"] * district["knowledge"])
    pooled = pooled.groupby("round")[["w", "population"]].sum()
    assert np.allclose(pooled["w"] / pooled["population"], city.set_index("round")["knowledge"])
    assert np.allclose(city["population"], district_population().sum())
    group = truth["group"].set_index(["round", "group"])["knowledge"]
    for r in ROUNDS:
        # the stated gaps: rural, little schooling and women 18–30 know less than everyone
        assert group[(r, "rural")] < group[(r, "all")]
        assert group[(r, "low_education")] < group[(r, "all")]
        assert group[(r, "women_18_30")] < group[(r, "all")]
    # the secular trend: knowledge rises every round
    assert city["knowledge"].is_monotonic_increasing
