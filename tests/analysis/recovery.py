"""Parameter recovery on generated seasons: the reports' own path, compared with the exact truth.

Shared by ``tests/bench/bench_recovery.py`` (50+ seeds) and ``tests/analysis/test_recovery.py``
(a few seeds). One seed = one generated season (``analysis.simulation.generate``, all four rounds),
taken through what the product runs on the submissions:

1. ``analysis.tidy.respondents`` + ``response_counts`` → ``analysis.weights.design_weights``
   (PPS, nonresponse-adjusted within commune) and ``analysis.tidy.activities`` (the outreach log);
2. ``analysis.gap_report.build_gap_report`` for each round (previous = the round before): the
   intervals compared with the truth are the report's own tables, untouched:
   ``levels`` (round × district and the city, from the last round's report), ``groups`` (each
   report's round × target group) and ``did`` (communes reached by commune-level outreach since
   the previous round vs the others, unadjusted and adjusted).

Truth: ``truth["district"]``, ``truth["city"]``, ``truth["group"]`` (population means given the
seed's communes), and for the DiD ``truth["effects_by_commune"]``.

What the report's DiD is compared with
--------------------------------------
The report contrasts the communes *reached* since the previous round (commune-level activities
dated in (previous, year]) with *every other* commune (never reached, or reached earlier: their
campaign's effect is in both rounds). Its estimand, the true outreach effect, is the ATT of the
reached communes on the knowledge score at ``year``: their population's mean score with minus
without their campaign (``effect``: the population-weighted mean of ``effects_by_commune`` over
the reached set). Parallel trends hold on the *logit* (ability) scale, not the score scale, so the
score-scale DiD targets, exactly,

    pop_did = [T(post) - T(pre)] - [C(post) - C(pre)] = ATT + trend_gap

with T, C the population means of the reached and other communes (``truth["commune"]``). Both
coverages are reported: of ``effect`` (the headline) and of ``pop_did`` (the standard errors
alone); the trend gap is far below the SE with the default parameters.

Conventions (``conventions=True``, diagnostics)
-----------------------------------------------
The same levels and DiD through :func:`analysis.levels.round_levels` and :func:`analysis.change.did`
(the functions the report calls) with other design conventions than the report's, to show why it
uses its own: see :data:`CONVENTIONS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.change import did
from analysis.gap_report import HEADLINE
from analysis.gap_report import build_gap_report
from analysis.levels import census_pps
from analysis.levels import census_psus
from analysis.levels import report_design
from analysis.levels import round_levels
from analysis.simulation import generate
from analysis.tidy import activities as tidy_activities
from analysis.tidy import respondents
from analysis.tidy import response_counts
from analysis.weights import design_weights
from forms import library

ROUNDS = (2017, 2018, 2019, 2020)
#: Target groups of ``analysis/groups.json`` that the truth defines (``limited_legal_knowledge`` is
#: defined by an answer, not a profile, so it has no population truth).
GROUPS = ("women_marriage_age", "rural", "low_education", "young_people", "rural_women_marriage_age",
          "rural_low_education")

#: Alternative design conventions measured beside the report's (name: Design keyword overrides).
CONVENTIONS = {
    "design df, no fpc (before issue 16)": {"df": "design", "fpc": None, "second_stage": False},
    "domain df, no fpc (R svyby+svyciprop)": {"df": "domain", "fpc": None, "second_stage": False},
    "domain df, fpc one-stage": {"df": "domain", "second_stage": False},
    "domain df, fpc two-stage": {"df": "domain"},
    "design df, fpc two-stage": {"df": "design"},
    "Satterthwaite df, fpc two-stage (issue 16 first pass)": {},
    "corrected Satterthwaite df, fpc two-stage": {"df": "satterthwaite-corrected"},
    "Satterthwaite df, Hartley-Rao two-stage (reports)": {"fpc": "pps"},
    "corrected Satterthwaite df, Hartley-Rao two-stage": {"fpc": "pps", "df": "satterthwaite-corrected"},
}

_FORMS: dict = {}


def _forms():
    if not _FORMS:
        _FORMS["awareness"] = library.load("awareness")
        _FORMS["outreach"] = library.load("outreach")
    return _FORMS["awareness"], _FORMS["outreach"]


def analysis_frame(season) -> pd.DataFrame:
    """Respondents with the product's weights (``stratum`` = district, ``psu`` = commune)."""
    awareness, _ = _forms()
    subs = season.submissions()
    return design_weights(respondents(subs, awareness), counts=response_counts(subs))


def activities(season) -> pd.DataFrame:
    """The outreach log as the report reads it."""
    _, outreach = _forms()
    return tidy_activities(season.outreach_submissions(), outreach)


def _covered(table, truth="truth"):
    return (table["ci_low"] <= table[truth]) & (table[truth] <= table["ci_high"])


def level_truth(season) -> pd.DataFrame:
    """The season's true headline levels per round × district and for the city (``district_code`` all)."""
    district = season.truth["district"].melt(id_vars=["round", "district_code"], value_vars=list(HEADLINE),
                                             var_name="indicator", value_name="truth")
    city = season.truth["city"].melt(id_vars=["round"], value_vars=list(HEADLINE), var_name="indicator",
                                     value_name="truth").assign(district_code="all")
    truth = pd.concat([district, city], ignore_index=True)
    truth["district_code"] = truth["district_code"].astype(str)
    return truth


def level_cells(season, report) -> pd.DataFrame:
    """The report's round × district and city intervals of the headline indicators, with the truth."""
    levels = report.levels[report.levels["indicator"].isin(HEADLINE)]
    truth = level_truth(season)
    out = levels.merge(truth, on=["round", "district_code", "indicator"], validate="one_to_one")
    if len(out) != len(levels):
        raise AssertionError("level cells without truth")
    out["level"] = np.where(out["district_code"] == "all", "city", "district")
    return _finish(out)


def group_cells(season, report) -> pd.DataFrame:
    """The report's target-group intervals (its round) with the truth."""
    groups = report.groups[report.groups["group"].isin(GROUPS)].assign(round=report.year)
    truth = season.truth["group"].melt(id_vars=["round", "group"], value_vars=list(HEADLINE),
                                       var_name="indicator", value_name="truth")
    out = groups.merge(truth, on=["round", "group", "indicator"], validate="one_to_one")
    if len(out) != len(groups) or set(groups["group"]) != set(GROUPS):
        raise AssertionError("group cells without truth, or a group missing from the report")
    return _finish(out.assign(level="group"))


def _finish(out):
    out["covered"] = _covered(out)
    out["error"] = out["estimate"] - out["truth"]
    return out


def _mean(table, keys, column):
    part = table[table["commune_key"].isin(keys)]
    return float(np.average(part[column], weights=part["population"]))


def did_targets(season, reached: set, pre: int, post: int) -> dict:
    """The true effect of the report's DiD (ATT of ``reached`` at ``post``) and its score-scale target."""
    commune = season.truth["commune"]
    every = set(commune["commune_key"])
    others = every - reached
    effects = season.truth["effects_by_commune"]
    effects = effects[(effects["round"] == post) & effects["commune_key"].isin(reached)]
    if set(effects["commune_key"]) != reached:
        raise AssertionError("a reached commune has no true effect (the outreach log and the truth disagree)")
    at = {r: commune[commune["round"] == r] for r in (pre, post)}
    t_pre, t_post = _mean(at[pre], reached, "knowledge"), _mean(at[post], reached, "knowledge")
    c_pre, c_post = _mean(at[pre], others, "knowledge"), _mean(at[post], others, "knowledge")
    effect = float(np.average(effects["effect"], weights=effects["population"]))
    untreated = float(np.average(effects["untreated_knowledge"], weights=effects["population"]))
    return {"effect": effect, "pop_did": (t_post - t_pre) - (c_post - c_pre),
            "trend_gap": (untreated - t_pre) - (c_post - c_pre)}


def reached_since(acts, previous: int, year: int, frame) -> set:
    """Communes the report counts as reached: commune-level activities in (previous, year], surveyed."""
    local = acts[(acts["level"] == "commune") & (acts["year"] > previous) & (acts["year"] <= year)]
    return set(local["commune_key"].astype(str)) & set(frame["commune_key"].astype(str))


def did_rows(season, report, acts, frame) -> list[dict]:
    """The report's DiD rows (one per model) with their targets."""
    if report.previous is None or report.did.empty:
        return []
    reached = reached_since(acts, report.previous, report.year, frame)
    targets = did_targets(season, reached, report.previous, report.year)
    return [{"post": report.year, "model": r.model, "estimate": r.estimate, "se": r.se, "ci_low": r.ci_low,
             "ci_high": r.ci_high, "df": r.df, "communes_reached": r.communes_reached, **targets}
            for r in report.did.itertuples()]


def _pooled(frame, previous, year, reached):
    """The report's DiD frame (as ``analysis.gap_report`` builds it), for the convention diagnostics."""
    pooled = frame[frame["round"].isin([previous, year])].reset_index(drop=True)
    return pooled.assign(
        reached=pooled["commune_key"].astype(str).isin(reached).astype("int64"),
        _stratum=pooled["stratum"].astype(str) + "|" + pooled["round"].astype(str),
        _psu=pooled["psu"].astype(str) + "|" + pooled["round"].astype(str))


def convention_cells(season, frame, acts) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Levels and unadjusted DiDs under each of :data:`CONVENTIONS` (diagnostics)."""
    first_stage = {"fpc": census_psus("stratum"), "pps": census_pps("stratum", "psu")}
    truth = level_truth(season)
    levels, dids = [], []
    for name, overrides in CONVENTIONS.items():
        options = {"df": "satterthwaite", "fpc": "fpc", "second_stage": True, **overrides}
        options["fpc"] = first_stage.get(options["fpc"])
        table = round_levels(frame, indicators=list(HEADLINE), rounds=ROUNDS, **options)
        table = table.merge(truth, on=["round", "district_code", "indicator"], validate="one_to_one")
        table["level"] = np.where(table["district_code"] == "all", "city", "district")
        levels.append(_finish(table).assign(convention=name))
        for year in ROUNDS[1:]:
            previous = year - 1
            reached = reached_since(acts, previous, year, frame)
            if not reached:
                continue
            pooled = _pooled(frame, previous, year, reached)
            design = report_design(strata="_stratum", psu="_psu", **options)
            effect = did(pooled, y="knowledge", round="round", treated="reached", pre=previous, post=year,
                         **design).effect.iloc[0]
            row = {"post": year, "estimate": effect.estimate, "se": effect.se, "ci_low": effect.ci_low,
                   "ci_high": effect.ci_high, **did_targets(season, reached, previous, year)}
            dids.append(dict(row, convention=name))
    out = pd.DataFrame(dids)
    out["covered"] = _covered(out, "effect")
    return pd.concat(levels, ignore_index=True), out


class _Levels:
    """The levels table of the reports alone: ``round_levels`` with its defaults, as ``build_gap_report``
    calls it (for ``levels_only`` runs over many seeds)."""

    def __init__(self, frame):
        self.levels = round_levels(frame, indicators=list(HEADLINE), rounds=ROUNDS)


def run_seed(seed: int, interviews: int, conventions=False, levels_only=False) -> dict[str, pd.DataFrame]:
    """``cells`` (levels and groups), ``dids`` and, with ``conventions``, the diagnostics of one season.

    ``levels_only``: only the district and city levels (``round_levels``, the reports' call), no report
    build: a few times faster, for coverage over many seeds.
    """
    season = generate(seed=seed, interviews=interviews, rounds=ROUNDS)
    frame = analysis_frame(season)
    if levels_only:
        return {"cells": level_cells(season, _Levels(frame)).assign(seed=seed)}
    acts = activities(season)
    cells, dids = [], []
    for year in ROUNDS:
        previous = year - 1 if year - 1 in ROUNDS else None
        report = build_gap_report(frame, acts, year=year, previous=previous, min_n=1, seed=seed)
        cells.append(group_cells(season, report))
        if year == ROUNDS[-1]:
            cells.append(level_cells(season, report))
        dids += did_rows(season, report, acts, frame)
    out = {"cells": pd.concat(cells, ignore_index=True).assign(seed=seed),
           "dids": pd.DataFrame(dids).assign(seed=seed)}
    for target in ("effect", "pop_did"):
        out["dids"][f"covers_{target}"] = _covered(out["dids"], target)
    if conventions:
        levels, conv_dids = convention_cells(season, frame, acts)
        out["conv_levels"], out["conv_dids"] = levels.assign(seed=seed), conv_dids.assign(seed=seed)
    return out


def run(seeds, interviews: int, conventions=False, levels_only=False) -> dict[str, pd.DataFrame]:
    """``run_seed`` over ``seeds``, each table concatenated."""
    parts = [run_seed(s, interviews, conventions, levels_only) for s in seeds]
    return {name: pd.concat([p[name] for p in parts], ignore_index=True) for name in parts[0]}
