"""Parameter recovery on generated seasons: the product's own path, compared with the exact truth.

Shared by ``tests/bench/bench_recovery.py`` (50+ seeds) and ``tests/analysis/test_recovery.py``
(a few seeds). One seed = one generated season (``analysis.simulation.generate``, all four rounds),
taken through what an analyst runs on the submissions:

1. ``analysis.tidy.respondents`` + ``response_counts`` → ``analysis.weights.design_weights``
   (PPS, nonresponse-adjusted within commune);
2. ``Design(strata = round × district, psu = round × commune)`` (independent samples per round),
   ``mean("knowledge", by=[round, district])`` against ``truth["district"]``;
3. ``analysis.tidy.activities`` → ``exposure``: a commune is *reached by round r* when it has an
   outreach activity in a year ≤ r, *never reached* when it has none up to the last round.
   ``analysis.change.did`` of the knowledge score, reached (by ``post``) vs never-reached
   communes, ``pre = 2017``; communes first reached after ``post`` are out of the domain.

What the DiD is compared with
-----------------------------
The generator's *true outreach effect* (``truth["effects"]``, round = post, channel ``any``) is an
ATT on the score scale: the population mean knowledge score of every commune treated by ``post``,
with minus without its campaign. Parallel trends hold on the *logit* (ability) scale, not on
the score scale: the score is a mean of ``expit(theta - b_j)``, so the same logit trend moves a
group's score by an amount that depends on the group's level. The score-scale DiD therefore
estimates, exactly,

    pop_did = [T(post) - T(pre)] - [C(post) - C(pre)]
            = ATT + ([T0(post) - T(pre)] - [C(post) - C(pre)])

with T, C the population means of the reached and never-reached communes (the whole city's, not
only the sampled ones) and T0(post) the reached communes' mean without the campaign. The bracket
is the score-scale violation of parallel trends; the truth tables give all its terms exactly
(``truth["commune"]`` and the ``untreated_knowledge`` column of ``truth["effects"]``). Each seed
therefore reports two targets:

* ``effect``: the true outreach effect (the estimand the issue asks for) — coverage of it mixes
  the design variance with the identification bias;
* ``pop_did``: what the score-scale DiD estimates in this finite population — coverage of it
  checks the design-based standard errors alone.

The treated and control sets match the truth's: ``effects`` for round r pools the communes
whose campaign year is ≤ r, which is exactly "reached by r" in the outreach logs.
The covariate-adjusted DiD (``area, education, women_18_30, age_60``: the model's profile terms)
is reported beside the unadjusted one; as a linear adjustment on the score scale it neither
removes the nonlinearity nor targets the ATT exactly, so it is a diagnostic, not the headline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.change import did
from analysis.population import communes as census_communes
from analysis.simulation import generate
from analysis.survey import Design
from analysis.tidy import activities as tidy_activities
from analysis.tidy import exposure
from analysis.tidy import respondents
from analysis.tidy import response_counts
from analysis.weights import design_weights
from forms import library

ROUNDS = (2017, 2018, 2019, 2020)
PRE = 2017
POSTS = (2018, 2019)
COVARIATES = ("area", "education", "women_18_30", "age_60")

_FORMS: dict = {}


def _forms():
    if not _FORMS:
        _FORMS["awareness"] = library.load("awareness")
        _FORMS["outreach"] = library.load("outreach")
    return _FORMS["awareness"], _FORMS["outreach"]


def analysis_frame(season) -> pd.DataFrame:
    """Respondents with the product's weights and round-specific strata and PSUs."""
    awareness, _ = _forms()
    subs = season.submissions()
    frame = design_weights(respondents(subs, awareness), counts=response_counts(subs))
    frame["stratum_r"] = frame["round"].astype(str) + "/" + frame["stratum"].astype(str)
    frame["psu_r"] = frame["round"].astype(str) + "/" + frame["psu"].astype(str)
    frame["women_18_30"] = ((frame["sex"] == "female") & frame["age"].between(18, 30)).astype("float64")
    frame["age_60"] = (frame["age"] >= 60).astype("float64")
    # diagnostic only: communes in the district (N_h), for a first-stage fpc of 1 - n_h / N_h
    frame["communes_in_district"] = frame["district_code"].map(census_communes().groupby(
        "district_code").size()).astype("float64")
    return frame


def district_cells(season, frame, diagnostics=True) -> pd.DataFrame:
    """District × round knowledge means with their CIs, the truth, and diagnostics.

    ``covered`` is the product's interval. Diagnostics: ``covered_local_df`` (t with the cell's
    PSUs − 1 degrees of freedom) and ``covered_fpc`` (variance times 1 − n_h / N_h).
    """
    keys = ["round", "district_code"]
    design = Design(frame, weight="weight", strata="stratum_r", psu="psu_r")
    est = design.mean("knowledge", by=keys)
    if diagnostics:
        fpc = Design(frame, weight="weight", strata="stratum_r", psu="psu_r", fpc="communes_in_district")
        fpc = fpc.mean("knowledge", by=keys)[[*keys, "ci_low", "ci_high", "se"]]
        est = est.merge(fpc.rename(columns={"ci_low": "ci_low_fpc", "ci_high": "ci_high_fpc",
                                            "se": "se_fpc"}), on=keys)
    truth = season.truth["district"][["round", "district_code", "knowledge"]].rename(
        columns={"knowledge": "truth"})
    out = est.merge(truth, on=["round", "district_code"], validate="one_to_one")
    if len(out) != len(est):
        raise AssertionError("district cells without truth")
    out["covered"] = (out["ci_low"] <= out["truth"]) & (out["truth"] <= out["ci_high"])
    # diagnostic only: a district × round cell is one stratum, so its variance estimate has
    # (PSUs in the cell − 1) degrees of freedom, not the design's #PSU − #strata
    psus = frame.groupby(["round", "district_code"])["psu_r"].nunique().rename("psus").reset_index()
    out = out.merge(psus, on=["round", "district_code"])
    q = stats.t.ppf(0.975, out["psus"] - 1)
    out["covered_local_df"] = (out["estimate"] - out["truth"]).abs() <= q * out["se"]
    if diagnostics:
        out["covered_fpc"] = (out["ci_low_fpc"] <= out["truth"]) & (out["truth"] <= out["ci_high_fpc"])
    out["error"] = out["estimate"] - out["truth"]
    return out


def _weighted(table: pd.DataFrame, mask) -> float:
    part = table[mask]
    return float(np.average(part["knowledge"], weights=part["population"]))


def did_targets(season, post: int) -> dict:
    """The true effect (ATT, score scale) and the population value of the score-scale DiD."""
    truth = season.truth
    year = truth["communes"].set_index("commune_key")["campaign_year"]
    commune = truth["commune"]
    first = commune["commune_key"].map(year)
    last = max(season.rounds)
    treated = first.between(1, post)
    never = (first == 0) | (first > last)
    row = truth["effects"]
    row = row[(row["round"] == post) & (row["channel"] == "any") & (row["group"] == "all")].iloc[0]
    t_pre = _weighted(commune, treated & (commune["round"] == PRE))
    t_post = _weighted(commune, treated & (commune["round"] == post))
    c_pre = _weighted(commune, never & (commune["round"] == PRE))
    c_post = _weighted(commune, never & (commune["round"] == post))
    if abs(t_post - row["treated_knowledge"]) > 1e-9:  # the two truth tables must agree
        raise AssertionError("truth tables disagree on the treated communes' mean")
    pop_did = (t_post - t_pre) - (c_post - c_pre)
    return {"effect": float(row["effect"]), "pop_did": pop_did,
            "trend_gap": (float(row["untreated_knowledge"]) - t_pre) - (c_post - c_pre)}


def did_estimates(season, frame, post: int, diagnostics=True) -> pd.DataFrame:
    """``did`` of reached-by-``post`` vs never-reached communes.

    Models ``unadjusted`` (the headline) and ``adjusted`` (``COVARIATES``); with ``diagnostics``
    also ``unadjusted_fpc``: the unadjusted DiD with a first-stage fpc of 1 − n_h / N_h.
    """
    _, outreach = _forms()
    exp = exposure(tidy_activities(season.outreach_submissions(), outreach), rounds=season.rounds)
    by_post = set(exp.loc[(exp["round"] == post) & exp["last_outreach_year"].notna(), "commune_key"])
    ever = set(exp.loc[(exp["round"] == max(season.rounds)) & exp["last_outreach_year"].notna(),
                       "commune_key"])
    key = frame["commune_key"]
    treated = np.where(key.isin(by_post), 1.0, np.where(~key.isin(ever), 0.0, np.nan))
    data = frame.assign(treated=treated)
    common = dict(y="knowledge", round="round", treated="treated", pre=PRE, post=post, weight="weight",
                  strata="stratum_r", psu="psu_r")
    effect = did(data, covariates=list(COVARIATES), **common).effect
    if diagnostics:
        fpc = did(data, fpc="communes_in_district", **common).effect.assign(model="unadjusted_fpc")
        effect = pd.concat([effect, fpc], ignore_index=True)
    return effect


def run_seed(seed: int, interviews: int, diagnostics=True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """District cells and DiD rows (one per post round × model) of one generated season."""
    season = generate(seed=seed, interviews=interviews, rounds=ROUNDS)
    frame = analysis_frame(season)
    cells = district_cells(season, frame, diagnostics).assign(seed=seed)
    rows = []
    for post in POSTS:
        targets = did_targets(season, post)
        effect = did_estimates(season, frame, post, diagnostics)
        for r in effect.itertuples():
            rows.append({"seed": seed, "post": post, "model": r.model, "estimate": r.estimate, "se": r.se,
                         "ci_low": r.ci_low, "ci_high": r.ci_high, "df": r.df, **targets})
    dids = pd.DataFrame(rows)
    for target in ("effect", "pop_did"):
        dids[f"covers_{target}"] = (dids["ci_low"] <= dids[target]) & (dids[target] <= dids["ci_high"])
    return cells, dids


def run(seeds, interviews: int, diagnostics=True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``run_seed`` over ``seeds``, concatenated."""
    parts = [run_seed(s, interviews, diagnostics) for s in seeds]
    return (pd.concat([p[0] for p in parts], ignore_index=True),
            pd.concat([p[1] for p in parts], ignore_index=True))
