"""Where outreach should go next: need, its uncertainty, tiers and reasons; which channels reach whom.

Need (all parameters in :class:`NeedParameters`)
-----------------------------------------------
For a place (district or commune) in survey round ``year``::

    need = M × (1 − K) × R × D

* ``M``: target population, census adults 15–79 (:mod:`analysis.population`);
* ``K``: mean knowledge score (0–1), so ``1 − K`` is the knowledge gap;
* ``R``: share of adults at risk (``at_risk``, :mod:`analysis.scores`), so ``M × R`` is the
  number at risk and ``need`` the at-risk adults' missing knowledge, in person units;
* ``D = 1 − max_discount × min(1, reached / population)``: the discount for recent outreach,
  ``reached`` the people reached by activities dated in the ``recent_years`` years up to
  ``year`` (:func:`analysis.tidy.exposure`), ``population`` the commune's total census
  population. ``max_discount = 0.5``: outreach logged in a place at most halves its need,
  because reach figures are often estimates and being reached is not learning; the
  survey's own knowledge estimate already shows what was learnt.

Estimates
---------
Districts: design-based means and proportions with the reports' design
(:func:`analysis.levels.report_design`: Hartley–Rao PPS first stage from the census, second stage
kept, Satterthwaite df), so a district's interval here is the levels table's. Communes: the
benchmarked small-area estimates of
:func:`analysis.commune_estimates.commune_estimates` for every census commune: a Fay–Herriot EBLUP with
census covariates where people were interviewed (``source`` ``small-area``), the model
(synthetic) estimate where nobody was (``source`` ``model``), both benchmarked so that the
communes of a district average (adult-weighted) to the district's design-based estimate. The
root-MSE of the benchmarked estimate is the ``_se`` the bootstrap draws with; ``_direct`` and
``_shrinkage`` show the commune's own direct estimate and how far it was pulled towards the
model. The reasons line says which kind of estimate a commune has.

Uncertainty, tiers
------------------
Parametric bootstrap: ``draws`` times, K and R are drawn for every place as its estimate plus its
standard error times a t variate with the figure's ``_df`` (a district's Satterthwaite df, a
commune model estimate's df; normal where there is none, as for sampled communes' EBLUPs), the
same tails as the interval shown (truncated to [0, 1]); places are ranked by need in each draw.
Reported: the need's 90% interval, median rank and 90% rank
interval, and ``p_top_k`` = P(rank ≤ k). Tiers come from that distribution, not from the
point order: ``highest`` if P(top k) ≥ 0.75, ``high`` if ≥ 0.25, ``medium`` if P(in the top
half) ≥ 0.5, else ``lower``. Places in one tier should be treated as equals.

Small cells: figures of a place with 1 to ``min_n − 1`` respondents are withheld from the output
(the place is still ranked, with its uncertainty). This holds for smoothed commune estimates
too: an EBLUP is ``gamma × direct + (1 − gamma) × synthetic``, so with the model published the
few respondents' direct figure could be recovered from it. Communes without interviews show their
model estimate: it uses none of their people's answers, only the census and the district's
other respondents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._taylor import require_columns
from analysis.commune_estimates import commune_estimates
from analysis.disclosure import MIN_N
from analysis.disclosure import suppress_small
from analysis.errors import VariableInvalid
from analysis.groups import add_group_columns
from analysis.groups import load_groups
from analysis.levels import census_first_stage
from analysis.levels import report_design
from analysis.population import communes as census_communes
from analysis.survey import Design

__all__ = ["NeedParameters", "TIERS", "reasons", "place_estimates", "rank_by_need", "prioritise",
           "channel_reach"]

TIERS = ("highest", "high", "medium", "lower")


@dataclass(frozen=True)
class NeedParameters:
    """Every parameter of the need formula, its uncertainty and its tiers, in one place."""

    knowledge: str = "knowledge"
    risk: str = "at_risk"
    hotline: str = "hotline_aware"
    recent_years: int = 2
    max_discount: float = 0.5
    draws: int = 2000
    tier_highest: float = 0.75
    tier_high: float = 0.25
    tier_medium: float = 0.5
    min_n: int = MIN_N
    level: float = 0.95


# ----------------------------------------------------------------------------- estimates
def _district_estimates(frame, params, design_kw):
    """Design-based district figures with the reports' convention (census PPS first stage, second stage,
    Satterthwaite df: :func:`analysis.levels.report_design`), so a district's interval here is the
    one the levels table shows, and its ``_df`` tells the bootstrap how heavy its tails are."""
    first_stage = census_first_stage(design_kw["strata"], design_kw["psu"])
    design = Design(frame, **report_design(**design_kw, fpc=first_stage))
    out = None
    for name, column, method in (("knowledge", params.knowledge, "mean"), ("risk", params.risk, "proportion"),
                                 ("hotline", params.hotline, "proportion")):
        est = getattr(design, method)(column, by=design_kw["strata"], level=params.level)
        part = est[[design_kw["strata"], "estimate", "se", "ci_low", "ci_high", "df", "n"]].rename(columns={
            "estimate": name, "se": f"{name}_se", "ci_low": f"{name}_low", "ci_high": f"{name}_high",
            "df": f"{name}_df"})
        part[f"{name}_df"] = part[f"{name}_df"].astype("float64")
        out = part if out is None else out.merge(part.drop(columns="n"), on=design_kw["strata"])
    return out.rename(columns={design_kw["strata"]: "district_code"})


def _commune_estimates(frame, year, params, design_kw, districts):
    """Benchmarked small-area estimates (:mod:`analysis.commune_estimates`) of the three figures."""
    out = None
    targets = districts.set_index("district_code")
    for name, column in (("knowledge", params.knowledge), ("risk", params.risk), ("hotline", params.hotline)):
        est = commune_estimates(frame, year=year, indicator=column, weight=design_kw["weight"],
                                strata=design_kw["strata"], psu=design_kw["psu"], level=params.level,
                                lonely_psu=design_kw["lonely_psu"], targets=targets[name])
        part = est[["district_code", "commune_key", "estimate", "se", "ci_low", "ci_high", "df", "direct",
                    "shrinkage", "n", "source"]].rename(columns={
            "estimate": name, "se": f"{name}_se", "ci_low": f"{name}_low", "ci_high": f"{name}_high",
            "df": f"{name}_df", "direct": f"{name}_direct", "shrinkage": f"{name}_shrinkage"})
        if out is None:
            out = part
        else:
            out = out.merge(part.drop(columns=["district_code", "n", "source"]), on="commune_key")
    return out


def _outreach(exposure, year, recent_years, level):
    if exposure is None:
        return None
    require_columns(exposure, ["round", "district_code", "commune_key", "activities", "people_reached",
                               "last_outreach_year"])
    window = exposure[(exposure["round"] > year - recent_years) & (exposure["round"] <= year)]
    keys = ["district_code", "commune_key"] if level == "commune" else ["district_code"]
    agg = window.groupby(keys, as_index=False).agg(activities_recent=("activities", "sum"),
                                                   reached_recent=("people_reached", "sum"))
    last = exposure[exposure["round"] <= year].groupby(keys)["last_outreach_year"].max()
    agg["last_outreach_year"] = agg.set_index(keys).index.map(last)
    agg["last_outreach_year"] = agg["last_outreach_year"].astype("Int64")
    return agg


def place_estimates(frame, exposure=None, *, year, level="commune", params=None, weight="weight",
                    strata="stratum", psu="psu", lonely_psu="adjust") -> pd.DataFrame:
    """Per place: population, knowledge, risk and hotline estimates with SEs, recent outreach.

    ``frame`` holds weighted respondents (``analysis.weights.design_weights``); only round
    ``year`` is used. ``exposure`` is :func:`analysis.tidy.exposure` over the rounds up to
    ``year`` (None: no outreach logged). Communes (``level="commune"``, all 85 of the census) get
    the benchmarked small-area estimates of :mod:`analysis.commune_estimates` (``source`` ``small-area`` or
    ``model``; also ``<figure>_direct`` and ``<figure>_shrinkage``), so the frame also needs
    ``district_code`` and ``commune_key``.
    """
    params = params or NeedParameters()
    if level not in ("commune", "district"):
        raise VariableInvalid(f"level must be 'commune' or 'district', got {level!r}")
    require_columns(frame, ["round", weight, strata, psu, params.knowledge, params.risk, params.hotline])
    this = frame[frame["round"] == year].reset_index(drop=True)
    if this.empty:
        raise VariableInvalid(f"no respondents in round {year}")
    design_kw = {"weight": weight, "strata": strata, "psu": psu, "lonely_psu": lonely_psu}
    districts = _district_estimates(this, params, design_kw)
    places = census_communes()
    if level == "district":
        pop = places.groupby(["district_code", "district_kind"], as_index=False).agg(
            population_total=("population", "sum"), population=("adult_population", "sum"))
        out = pop.rename(columns={"district_kind": "area"}).merge(districts, on="district_code", how="left")
        out["n"] = out["n"].fillna(0).astype("int64")
        out["source"] = np.where(out["n"] > 0, "survey", "none")
    else:
        out = _commune_estimates(this, year, params, design_kw, districts)
        out = places[["district_code", "commune_key", "commune_name", "area", "population",
                      "adult_population"]].rename(columns={"population": "population_total",
                                                           "adult_population": "population"}).merge(
            out, on=["district_code", "commune_key"])
    reach = _outreach(exposure, year, params.recent_years, level)
    keys = ["district_code", "commune_key"] if level == "commune" else ["district_code"]
    if reach is None:
        out["activities_recent"], out["reached_recent"] = 0, 0.0
        out["last_outreach_year"] = pd.array([pd.NA] * len(out), dtype="Int64")
    else:
        out = out.merge(reach, on=keys, how="left")
        out["activities_recent"] = out["activities_recent"].fillna(0).astype("int64")
        out["reached_recent"] = out["reached_recent"].fillna(0.0)
    out["year"] = year
    return out


# ----------------------------------------------------------------------------- ranking
#: Phrases of the reasons line, English and Vietnamese (``{}`` fields filled per place).
PHRASES = {
    "urban": ("urban", "thành thị"),
    "rural": ("rural", "nông thôn"),
    "withheld": ("fewer than {min_n} respondents: figures withheld",
                 "dưới {min_n} người trả lời: không công bố số liệu"),
    "need": ("about {need} adults at risk with little knowledge",
             "khoảng {need} người lớn có nguy cơ mà hiểu biết còn thấp"),
    "rank": ("likely rank {low}–{high}", "thứ hạng có thể từ {low} đến {high}"),
    "rank_sure": ("rank {rank} in nearly every draw", "thứ hạng {rank} trong gần như mọi lần mô phỏng"),
    "no_outreach": ("no outreach recorded", "chưa ghi nhận hoạt động truyền thông"),
    "outreach_since": ("no outreach since {last}", "không có hoạt động truyền thông từ {last}"),
    "outreach_recent": ("{activities} activities, {reached} reached in {first}–{year}",
                        "{activities} hoạt động, tiếp cận {reached} người trong {first}–{year}"),
    "small_area": ("small-area estimate from {n} interviews", "ước lượng vùng nhỏ từ {n} phỏng vấn"),
    "model": ("no interviews here: model estimate", "không có phỏng vấn ở đây: ước lượng theo mô hình"),
    "none": ("no interviews", "không có phỏng vấn"),
}


def _about(x, language):
    """A count for reading, to two significant figures (12,345 → 12,000; Vietnamese groups with a dot)."""
    rounded = int(float(f"{x:.2g}")) if x >= 100 else round(x)
    text = f"{rounded:,}"
    return text.replace(",", ".") if language == "vi" else text


def reasons(row, params) -> tuple[str, str]:
    """The reasons line of a place in English and in Vietnamese.

    It says what the table's columns do not: the area, the size of the need (adults at risk with little
    knowledge, the ranking's measure), the likely ranks, the outreach history and where the estimate
    comes from. Figures are quoted only when shown: a place with 0 < n < ``min_n`` respondents, or one
    marked ``suppressed`` by a later rule (e.g. its whole district is a small cell), gets "figures withheld".
    """
    en, vi = [], []

    def add(key, **fields):
        phrase_en, phrase_vi = PHRASES[key]
        en.append(phrase_en.format(**fields))
        vi.append(phrase_vi.format(**fields))

    if row["area"] in ("urban", "rural"):
        add(row["area"])
    else:  # an unknown area label is passed through rather than guessed
        en.append(str(row["area"]))
        vi.append(str(row["area"]))
    if 0 < row["n"] < params.min_n or bool(row.get("suppressed", False)) or pd.isna(row["knowledge"]):
        add("withheld", min_n=params.min_n)
    else:
        if pd.notna(row.get("need")):
            en.append(PHRASES["need"][0].format(need=_about(row["need"], "en")))
            vi.append(PHRASES["need"][1].format(need=_about(row["need"], "vi")))
        if pd.notna(row.get("rank_low")) and pd.notna(row.get("rank_high")):
            low, high = int(row["rank_low"]), int(row["rank_high"])
            add("rank", low=low, high=high) if low < high else add("rank_sure", rank=low)
    last = row["last_outreach_year"]
    if pd.isna(last):
        add("no_outreach")
    elif last <= row["year"] - params.recent_years:
        add("outreach_since", last=int(last))
    else:
        fields = {"activities": int(row["activities_recent"]), "first": row["year"] - params.recent_years + 1,
                  "year": row["year"]}
        en.append(PHRASES["outreach_recent"][0].format(reached=f"{row['reached_recent']:,.0f}", **fields))
        # Vietnamese groups thousands with a dot
        vi.append(PHRASES["outreach_recent"][1].format(
            reached=f"{row['reached_recent']:,.0f}".replace(",", "."), **fields))
    if row["source"] == "small-area":
        add("small_area", n=int(row["n"]))
    elif row["source"] in ("model", "none"):
        add(row["source"])
    return "; ".join(en), "; ".join(vi)


def _draws(rng, places, name, shape):
    """Bootstrap draws of figure ``name``: its estimate plus its se times a t(``<name>_df``) variate.

    The reported interval of a place is ``estimate ± t(df) × se`` (a normal quantile where ``df`` is
    missing or infinite, as for sampled communes' small-area estimates), so the draws have the same
    tails: a district resting on a few communes is as uncertain in the ranking as in its interval.
    The normal variates come first, as without ``df``; the chi-square ones after them.
    """
    z = rng.normal(size=shape)
    se = places[f"{name}_se"].fillna(0).to_numpy()
    column = f"{name}_df"
    if column in places.columns:
        df = places[column].astype("float64").to_numpy()
        finite = np.isfinite(df) & (df > 0)
        if finite.any():
            chi2 = rng.chisquare(np.where(finite, df, 1.0), size=shape)
            z = np.where(finite, z / np.sqrt(chi2 / np.where(finite, df, 1.0)), z)
    return places[name].to_numpy() + se * z


def rank_by_need(places, *, k, params=None, seed=0, level="commune") -> pd.DataFrame:
    """Need, its bootstrap distribution, P(top k), tiers and reasons for a place table.

    ``places`` has ``population, population_total, knowledge, knowledge_se, risk, risk_se,
    reached_recent`` (e.g. from :func:`place_estimates`, or smoothed estimates in their place),
    optionally ``knowledge_df`` and ``risk_df`` (the draws' t df; missing: normal)
    and, for the reasons, ``area, n, source, hotline[_low/_high], knowledge_low/_high,
    risk_low/_high, activities_recent, last_outreach_year, year``.
    """
    params = params or NeedParameters()
    require_columns(places, ["population", "population_total", "knowledge", "knowledge_se", "risk",
                             "risk_se", "reached_recent"])
    usable = places.dropna(subset=["knowledge", "risk"]).reset_index(drop=True)
    if not 1 <= k < len(usable):
        raise VariableInvalid(f"k must be between 1 and {len(usable) - 1} (the places ranked), got {k}")
    coverage = np.minimum(1.0, usable["reached_recent"].to_numpy() / usable["population_total"].to_numpy())
    discount = 1 - params.max_discount * coverage
    size = usable["population"].to_numpy() * discount
    rng = np.random.default_rng(seed)
    shape = (params.draws, len(usable))
    kd = np.clip(_draws(rng, usable, "knowledge", shape), 0, 1)
    rd = np.clip(_draws(rng, usable, "risk", shape), 0, 1)
    need_draws = size * (1 - kd) * rd
    # rank 1 = largest need; random jitter breaks exact ties fairly instead of by row order
    jitter = rng.random(shape) * 1e-9 * (1 + need_draws.max())
    ranks = (-(need_draws + jitter)).argsort(axis=1).argsort(axis=1) + 1
    out = usable.copy()
    out["discount"] = discount
    out["need"] = size * (1 - usable["knowledge"]) * usable["risk"]
    out["need_low"], out["need_high"] = np.quantile(need_draws, [0.05, 0.95], axis=0)
    out["rank_median"] = np.median(ranks, axis=0)
    out["rank_low"], out["rank_high"] = np.quantile(ranks, [0.05, 0.95], axis=0)
    out["p_top_k"] = (ranks <= k).mean(axis=0)
    top_half = (ranks <= len(usable) / 2).mean(axis=0)
    out["tier"] = np.select(
        [out["p_top_k"] >= params.tier_highest, out["p_top_k"] >= params.tier_high,
         top_half >= params.tier_medium],
        ["highest", "high", "medium"], default="lower")
    out["k"] = k
    if {"area", "n", "source", "year", "last_outreach_year", "hotline"} <= set(out.columns):
        lines = [reasons(row, params) for _, row in out.iterrows()]
        out["reasons"] = [en for en, _ in lines]
        out["reasons_vi"] = [vi for _, vi in lines]
    out = out.sort_values(["p_top_k", "need"], ascending=False, kind="stable").reset_index(drop=True)
    figures = [c for c in out.columns if c.split("_")[0] in ("knowledge", "risk", "hotline")]
    if {"n", "source"} <= set(out.columns):
        # model estimates of communes without interviews use none of their people's answers, so
        # they are not small cells; a commune (or district) with a few interviews is
        small = (out["n"] > 0) & (out["n"] < params.min_n)
        out = suppress_small(out.assign(_n=np.where(small, 0, params.min_n)), n="_n", min_n=params.min_n,
                             columns=figures + ["need", "need_low", "need_high"]).drop(columns="_n")
    return out


def prioritise(frame, exposure=None, *, year, level="commune", k=None, params=None, seed=0,
               weight="weight", strata="stratum", psu="psu"):
    """Districts or communes ranked by need, with P(top k), tiers and one line of reasons each.

    Parameters
    ----------
    frame : pandas.DataFrame
        Weighted respondents (all rounds; round ``year`` is used).
    exposure : pandas.DataFrame, optional
        :func:`analysis.tidy.exposure` for the rounds up to ``year``.
    year : int
        The survey round the ranking is for.
    level : {"commune", "district"}
    k : int, optional
        Size of the "top" (default 10 communes or 3 districts).
    params : NeedParameters, optional
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per place: keys, ``area, population, n, source``, the estimates and their
        intervals (withheld below ``min_n``), ``discount, need, need_low, need_high,
        rank_median, rank_low, rank_high, p_top_k, tier, reasons, reasons_vi, suppressed``; sorted by
        ``p_top_k`` (read the tiers, not the order within a tier).
    """
    params = params or NeedParameters()
    k = k if k is not None else (10 if level == "commune" else 3)
    places = place_estimates(frame, exposure, year=year, level=level, params=params, weight=weight,
                             strata=strata, psu=psu)
    return rank_by_need(places, k=k, params=params, seed=seed, level=level)


def channel_reach(frame, groups=None, *, channels=None, weight="weight", strata="stratum", psu="psu",
                  min_n=MIN_N, level=0.95, lonely_psu="adjust") -> pd.DataFrame:
    """Share of each target group reached by each channel (design-based, with CIs).

    Parameters
    ----------
    frame : pandas.DataFrame
        Weighted respondents of one round (pool rounds only with round-specific strata).
    groups : optional
        Group definitions (see :mod:`analysis.groups`); default ``analysis/groups.json``.
        ``"all"`` (every adult) is always included.
    channels : list of str, optional
        Channel indicator columns; default every ``channels_<name>`` column.

    Returns
    -------
    pandas.DataFrame
        ``group, channel, estimate, se, ci_low, ci_high, df, deff, cv, n, n_weighted,
        suppressed``: the proportion of the group who heard about trafficking through the
        channel in the last 12 months; domains of fewer than ``min_n`` respondents withheld.
    """
    definitions = load_groups(groups) if groups is None or not isinstance(groups, list) else groups
    work = add_group_columns(frame, definitions)
    work["all"] = pd.array([True] * len(work), dtype="boolean")
    channels = channels or [c for c in work.columns if c.startswith("channels_")]
    if not channels:
        raise VariableInvalid("no channel columns (channels_<name>) in the frame")
    design = Design(work, weight=weight, strata=strata, psu=psu, lonely_psu=lonely_psu)
    rows = []
    for group in ["all", *[g["name"] for g in definitions]]:
        if not work[group].fillna(False).any():
            continue
        for channel in channels:
            est = design.proportion(channel, by=group, level=level)
            est = est[est[group].astype(bool)].drop(columns=group)
            est.insert(0, "channel", channel.removeprefix("channels_"))
            est.insert(0, "group", group)
            rows.append(est)
    return suppress_small(pd.concat(rows, ignore_index=True), min_n=min_n)
