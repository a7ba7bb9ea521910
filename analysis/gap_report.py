"""The awareness-gap report of one survey round: every table a planner's report shows, as tidy frames.

:func:`build_gap_report` gathers levels (round × district, with the city), target groups (with
change since the previous round), change per district, the difference-in-differences of communes
reached by local outreach, commune small-area estimates, the risk model (cross-validated AUC,
calibration, at-risk people projected per district), priorities (communes and districts: tiers,
P(top k)), channels × groups and the 12 November tables. Rendering is elsewhere
(:mod:`analysis.report_html`, :mod:`analysis.report_tables`).

Choices
-------
* One design per round; changes are differences of independent rounds
  (:mod:`analysis.levels`), so each round's estimates are computed once.
* DiD: a commune is *reached* when a commune-level activity (mobile team, meeting, bookshelf...)
  was logged there in the years after the previous round up to this one. City- and district-wide
  activities reach everyone in their scope, so they do not separate communes and are left out.
* Risk model: fitted on census features only (age, sex, urban/rural), so it can be projected onto
  the census; on round ``year``, on a random subsample of at most ``max_model_rows`` (default
  50,000) respondents stratified by district (proportional allocation, seeded) when the round is
  larger. The model has about ten coefficients: 50,000 people pin them down (and its AUC to a
  few thousandths) as well as 250,000, and the fit with its 5-fold cross-validation otherwise
  dominates the build (about 15 s on 2 busy cores at 200,000 rows).
* Small cells: every figure from fewer than ``min_n`` respondents is withheld (NaN, with a
  ``suppressed`` flag); a change needs ``min_n`` in both rounds; a DiD needs it in each of its four
  cells; a commune estimate is withheld when 0 < n < ``min_n`` whatever its source (a model-based
  estimate still leans on those few answers); projections onto the census are not survey cells.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from dataclasses import field

import numpy as np
import pandas as pd

from analysis import tidy
from analysis._taylor import require_columns
from analysis.change import did
from analysis.disclosure import MIN_N
from analysis.disclosure import suppress_small
from analysis.errors import AnalysisError
from analysis.errors import VariableInvalid
from analysis.groups import load_groups
from analysis.labels import INDICATORS
from analysis.levels import census_psus
from analysis.levels import differences
from analysis.levels import report_design
from analysis.levels import round_levels
from analysis.population import communes as census_communes
from analysis.priority import NeedParameters
from analysis.priority import channel_reach
from analysis.priority import place_estimates
from analysis.priority import rank_by_need
from analysis.priority import reasons
from analysis.report_estimates import HEADLINE
from analysis.report_estimates import group_levels
from analysis.report_estimates import pooled_rounds
from analysis.risk import RiskModel
from analysis.risk import cross_validated_report
from analysis.risk import project_at_risk
from analysis.yearly_report import YearlyReport
from analysis.yearly_report import yearly_report

__all__ = ["HEADLINE", "GapReport", "build_gap_report"]

#: Respondent covariates of the adjusted DiD and of the baseline balance table.
DID_COVARIATES = ("sex", "age", "education")


@dataclass
class GapReport:
    """The report's tables (tidy frames; withheld figures are NaN with ``suppressed`` True)."""

    year: int
    previous: int | None
    min_n: int
    k: int
    levels: pd.DataFrame
    groups: pd.DataFrame
    change: pd.DataFrame
    did: pd.DataFrame
    did_cells: pd.DataFrame
    did_balance: pd.DataFrame
    small_areas: pd.DataFrame
    risk: pd.DataFrame
    risk_calibration: pd.DataFrame
    at_risk: pd.DataFrame
    priorities: pd.DataFrame
    district_priorities: pd.DataFrame
    channels: pd.DataFrame
    yearly: YearlyReport
    caveats: tuple = ()
    #: What the build had to leave out or simplify: ``{"code": ..., **fields}`` (words in report_text).
    notes: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    #: Each round's design ({round: description}, :mod:`analysis.report_plans`), given by the caller.
    designs: dict = field(default_factory=dict)
    #: The approved outreach plan of ``year`` against what was done
    #: (:class:`analysis.report_plans.OutreachReview`); None: not given.
    outreach_review: object = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, in reading order (the XLSX sheets and CSV files)."""
        return {"levels": self.levels, "groups": self.groups, "change": self.change, "did": self.did,
                "did_cells": self.did_cells, "did_balance": self.did_balance, "small_areas": self.small_areas,
                "risk_model": self.risk, "risk_calibration": self.risk_calibration, "at_risk": self.at_risk,
                "priorities": self.priorities, "district_priorities": self.district_priorities,
                "channels": self.channels, "outreach": self.yearly.outreach,
                "outreach_totals": self.yearly.outreach_totals, "yearly": self.yearly.awareness,
                **self._plan_tables()}

    def _plan_tables(self) -> dict[str, pd.DataFrame]:
        """The approved outreach plan against what was done, when the caller gave one."""
        review = self.outreach_review
        return {} if review is None or review.comparison is None else {"outreach_plan": review.comparison}


class _Clock:
    def __init__(self):
        self.timings, self._last = {}, time.perf_counter()

    def lap(self, name):
        now = time.perf_counter()
        self.timings[name] = round(now - self._last, 3)
        self._last = now


def _columns_used(frame, definitions):
    """The columns the report reads: every design copies its frame, so narrow it once, first."""
    wanted = {"round", "stratum", "psu", "weight", "district_code", "commune_key", "area", "sex", "age",
              *HEADLINE, *INDICATORS, *DID_COVARIATES}
    for group in definitions:
        wanted |= set(group.get("where", {}))
    return frame[[c for c in frame.columns if c in wanted or c.startswith("channels_")]]


def _district_names():
    places = census_communes()
    return dict(zip(places["district_code"], places["district_name"], strict=False))


def _groups(frame, definitions, rounds, levels, level):
    """Headline indicators per target group in each of ``rounds`` (one design per round), with the city."""
    rows = []
    for r in rounds:
        rows.append(group_levels(frame, round_=r, definitions=definitions, level=level))
        city = levels[(levels["round"] == r) & (levels["district_code"] == "all")
                      & levels["indicator"].isin(HEADLINE)]
        rows.append(city.drop(columns="district_code").assign(group="all"))
    columns = ["round", "group", "indicator", "estimate", "se", "ci_low", "ci_high", "df", "deff", "n"]
    return pd.concat(rows, ignore_index=True)[columns]


def _with_change(table, keys, year, previous, min_n, level):
    """Rows of ``year`` with their change since ``previous`` (withheld below ``min_n``)."""
    this = table[table["round"] == year].drop(columns="round")
    if previous is not None:
        diff = differences(table, a=previous, b=year, keys=keys, level=level)
        this = this.merge(diff.drop(columns="change_df").rename(columns={"n": "n_smaller_round"}), on=keys,
                          how="left")
    this = suppress_small(this, min_n=min_n, columns=["estimate", "se", "ci_low", "ci_high", "deff"])
    if previous is not None:
        small = this["n_smaller_round"].fillna(0) < min_n
        change_cols = ["change", "change_low", "change_high", "change_se"]
        this[change_cols] = this[change_cols].astype("float64").where(~small)
        this["change_suppressed"] = small.to_numpy()
    return this.reset_index(drop=True)


def _did(frame, activities, year, previous, min_n, level):
    """DiD of communes reached by local outreach between the rounds, or empty tables and a note."""
    empty = (pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    if previous is None:
        return (*empty, (), {"code": "no_previous"})
    local = activities[(activities["level"] == "commune") & (activities["year"] > previous)
                       & (activities["year"] <= year)]
    reached = set(local["commune_key"].astype(str))
    pooled = pooled_rounds(frame, previous, year)
    pooled = pooled.assign(reached=pooled["commune_key"].astype(str).isin(reached).astype("int64"))
    covariates = [c for c in DID_COVARIATES if c in pooled.columns]
    sampled = set(pooled["commune_key"].astype(str))
    if pooled["reached"].nunique() < 2:  # everyone or no one reached: nothing to compare with
        return (*empty, (), {"code": "did_no_contrast", "reached": len(reached & sampled),
                             "communes": len(sampled)})
    try:
        result = did(pooled, y="knowledge", round="round", treated="reached", pre=previous, post=year,
                     covariates=covariates, level=level,
                     # the DiD keeps the equal-probability first-stage fpc, measured to cover
                     # (docs/analysis.md); with Hartley-Rao its recovery check covered 7 of 10, under the bar
                     **report_design(strata="_stratum", psu="_psu", fpc=census_psus()))
    except AnalysisError as err:
        return (*empty, (), {"code": "did_failed", "reason": err.code})
    cells = suppress_small(result.cells, min_n=min_n)
    smallest = int(result.cells["n"].min()) if len(result.cells) == 4 else 0
    effect = result.effect.assign(n=smallest, communes_reached=len(reached & set(pooled["commune_key"])))
    effect = suppress_small(effect, min_n=min_n,
                            columns=["estimate", "se", "ci_low", "ci_high", "deff", "cv", "n_weighted"])
    base = pooled[pooled["round"] == previous]
    counts = base.groupby("reached").size().reindex([0, 1], fill_value=0)
    balance = result.balance.assign(n=int(counts.min()))
    balance = suppress_small(balance, min_n=min_n, columns=[c for c in balance.columns
                                                            if c not in ("variable", "n")])
    return effect, cells, balance, tuple(result.caveats), None


def _figures(table):
    return [c for c in table.columns if c.split("_")[0] in ("knowledge", "risk", "hotline", "need")]


def _withhold_places(table, district_n, min_n):
    """Blank a commune's figures if it has 0 < n < min_n respondents, or its district fewer than min_n.

    A commune without interviews carries its district's estimate (or a model leaning on it), so in a
    district of few respondents that estimate would publish what the district row withholds.
    """
    small = (table["n"] > 0) & (table["n"] < min_n)
    small |= table["district_code"].map(district_n).fillna(0).to_numpy() < min_n
    if "suppressed" in table.columns:
        small |= table["suppressed"].to_numpy(dtype=bool)
        table = table.drop(columns="suppressed")
    out = suppress_small(table.assign(_n=np.where(small, 0, min_n)), n="_n", min_n=min_n,
                         columns=_figures(table)).drop(columns="_n")
    if "reasons" in out.columns:
        # the ranking's own reasons quote the figures; rewrite them from what is left
        params = NeedParameters(min_n=min_n)
        lines = [reasons({**row, "suppressed": bool(is_small)}, params) for (_, row), is_small in zip(
            out.iterrows(), small, strict=True)]
        out["reasons"], out["reasons_vi"] = [en for en, _ in lines], [vi for _, vi in lines]
    return out


def _small_areas(places, district_n, min_n):
    keep = [c for c in places.columns if c in (
        "district_code", "commune_key", "commune_name", "area", "population", "n", "source")
        or (c.split("_")[0] in ("knowledge", "risk", "hotline") and not c.endswith("_df"))]
    return _withhold_places(places[keep].copy(), district_n, min_n)


def _top(places, k):
    """``k``, or fewer when few places have estimates (a "top k" must leave some places out)."""
    usable = int(places[["knowledge", "risk"]].notna().all(axis=1).sum())
    return max(1, min(k, usable - 1))


def _subsample(frame, max_rows, seed):
    """At most ``max_rows`` rows, drawn within districts in proportion to their size (seeded)."""
    if len(frame) <= max_rows:
        return frame, False
    rng = np.random.default_rng(seed)
    keys = rng.random(len(frame))
    # the same uniform draw ranked within each district: a proportional stratified sample
    share = max_rows / len(frame)
    rank = pd.Series(keys).groupby(frame["stratum"].to_numpy()).rank(method="first").to_numpy()
    size = frame.groupby("stratum")["stratum"].transform("size").to_numpy()
    return frame[rank <= np.floor(size * share)], True


def _risk(frame, year, max_rows, seed, min_n):
    this = frame[(frame["round"] == year)].dropna(subset=["at_risk", "age"]).reset_index(drop=True)
    fit, sampled = _subsample(this, max_rows, seed)
    fit = fit.reset_index(drop=True)
    model = RiskModel(categorical=("sex", "area"), numeric=("age",))
    y = fit["at_risk"].astype("float64")
    cv = cross_validated_report(model, fit, y, sample_weight=fit["weight"], groups="psu", random_state=seed)
    model.fit(fit, y, sample_weight=fit["weight"])
    summary = pd.DataFrame([{
        "target": "at_risk", "features": "age, sex, area", "n_round": len(this), "n_fit": len(fit),
        "subsampled": sampled, "folds": len(cv.folds), "auc": cv.auc, "auc_mean": cv.auc_mean,
        "auc_sd": cv.auc_sd, "calibration_slope": cv.calibration_slope,
        "calibration_intercept": cv.calibration_intercept, "brier": cv.brier}])
    calibration = suppress_small(cv.calibration, min_n=min_n, columns=["weight", "predicted", "observed"])
    everyone = project_at_risk(model, level="district")
    women = project_at_risk(model, sex="female", ages=(18, 34), level="district")
    women = women.rename(columns={"population": "women_18_34", "expected": "women_18_34_expected",
                                  "rate": "women_18_34_rate"})
    at_risk = everyone.merge(women, on="district_code")
    names = _district_names()
    at_risk.insert(1, "district_name", at_risk["district_code"].map(names))
    return summary, calibration, at_risk


def build_gap_report(frame, activities, *, year, previous=None, min_n=MIN_N, k=10, district_k=3, seed=0,
                     groups=None, max_model_rows=50_000, level=0.95) -> GapReport:
    """Build the awareness-gap report of round ``year`` (see the module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        Weighted respondents (:func:`analysis.weights.design_weights`) of all rounds; rounds after
        ``year`` are ignored.
    activities : pandas.DataFrame
        :func:`analysis.tidy.activities` (the outreach log).
    year, previous : int
        The report's round and the round its changes are measured from (None: no change, no DiD).
    min_n : int
        Small-cell threshold applied to every table.
    k, district_k : int
        Size of the "top" of the commune and district rankings (P(top k)).
    seed : int
        Seed of the ranking's bootstrap, the model's folds and its subsample.
    groups : optional
        Target-group definitions (default ``analysis/groups.json``).
    max_model_rows : int
        Largest number of respondents the risk model is fitted on (a stratified subsample above).
    """
    require_columns(frame, ["round", "stratum", "psu", "weight", "commune_key", "district_code", *HEADLINE])
    if not isinstance(min_n, (int, np.integer)) or min_n < 1:
        raise VariableInvalid(f"min_n must be a positive integer, got {min_n!r}")
    present = sorted(int(r) for r in pd.unique(frame["round"]))
    if year not in present:
        raise VariableInvalid(f"no respondents in round {year}")
    if previous is not None and (previous not in present or previous >= year):
        raise VariableInvalid(f"previous must be an earlier round with respondents, got {previous}")
    clock = _Clock()
    definitions = groups if isinstance(groups, list) else load_groups(groups)
    frame = _columns_used(frame[frame["round"] <= year], definitions)
    rounds = [r for r in present if r <= year]
    notes = []

    # the yearly tables also show the share at risk, so its levels come from the same designs
    all_levels = round_levels(frame, indicators=[c for c in (*HEADLINE, "at_risk") if c in frame.columns],
                              rounds=rounds, level=level)
    clock.lap("levels")
    group_rounds = [year] if previous is None else [previous, year]
    group_table = _groups(frame, definitions, group_rounds, all_levels, level)
    groups_out = _with_change(group_table, ["group", "indicator"], year, previous, min_n, level)
    clock.lap("groups")

    names = _district_names()
    headline = all_levels[all_levels["indicator"].isin(HEADLINE)]
    change = pd.DataFrame()
    if previous is not None:
        change = _with_change(headline[headline["round"].isin(group_rounds)], ["district_code", "indicator"],
                              year, previous, min_n, level)
    levels = suppress_small(headline, min_n=min_n, columns=["estimate", "se", "ci_low", "ci_high", "deff"])
    for table in (levels, change):
        if len(table):
            table.insert(table.columns.get_loc("district_code") + 1, "district_name",
                         table["district_code"].map(names).fillna("Cần Thơ"))
    clock.lap("change")

    effect, cells, balance, caveats, note = _did(frame, activities, year, previous, min_n, level)
    if note:
        notes.append(note)
    clock.lap("did")

    exposure = tidy.exposure(activities, rounds=rounds)
    params = NeedParameters(min_n=int(min_n))
    communes = place_estimates(frame, exposure, year=year, level="commune", params=params)
    district_n = frame[frame["round"] == year].groupby("district_code").size()
    small_areas = _small_areas(communes, district_n, min_n)
    clock.lap("small_areas")

    try:
        risk, calibration, at_risk = _risk(frame, year, max_model_rows, seed, min_n)
    except AnalysisError as err:  # e.g. fewer communes than folds, or nobody at risk
        risk, calibration, at_risk = pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
        notes.append({"code": "risk_failed", "reason": err.code})
    if len(risk) and bool(risk["subsampled"].iloc[0]):
        notes.append({"code": "subsample", "n": int(risk["n_fit"].iloc[0]),
                      "of": int(risk["n_round"].iloc[0])})
    clock.lap("risk")

    k = _top(communes, k)
    priorities = _withhold_places(rank_by_need(communes, k=k, params=params, seed=seed, level="commune"),
                                  district_n, min_n)
    district_places = place_estimates(frame, exposure, year=year, level="district", params=params)
    district_priorities = rank_by_need(district_places, k=_top(district_places, district_k), params=params,
                                       seed=seed, level="district")
    district_priorities = _withhold_places(district_priorities, district_n, min_n)
    district_priorities.insert(1, "district_name", district_priorities["district_code"].map(names))
    clock.lap("priorities")

    this = frame[frame["round"] == year].reset_index(drop=True)
    channels = channel_reach(this, definitions, min_n=int(min_n))
    clock.lap("channels")

    yearly = yearly_report(frame, activities, year=year, previous=previous,
                           indicators=[c for c in INDICATORS if c in frame.columns], min_n=int(min_n),
                           levels=all_levels, level=level)
    clock.lap("yearly")
    return GapReport(year=year, previous=previous, min_n=int(min_n), k=k, levels=levels, groups=groups_out,
                     change=change, did=effect, did_cells=cells, did_balance=balance, small_areas=small_areas,
                     risk=risk, risk_calibration=calibration, at_risk=at_risk, priorities=priorities,
                     district_priorities=district_priorities, channels=channels, yearly=yearly,
                     caveats=caveats, notes=notes, timings=clock.timings)
