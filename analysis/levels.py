"""Levels per round and domain, and change as a difference of independent rounds.

Each survey round is an independent sample (its own PPS draw of communes), so the change from
round a to round b of a domain mean is ``est_b - est_a`` with ``se = sqrt(se_a² + se_b²)`` (and
``df = df_a + df_b`` with ``df="sum"``): exactly what :func:`analysis.change.change` gives with
strata district × round and PSUs commune × round (the between-round covariance is zero there),
except for strata with a single PSU under ``lonely_psu="adjust"``, which that function centres at
the pooled mean of both rounds. Computing it from the per-round levels lets a report build one
design per round and reuse its estimates for every change it shows, which matters at a million
respondents.

The reports' design convention (:func:`report_design`, measured in ``docs/analysis.md``)
----------------------------------------------------------------------------------------
* The first stage as drawn: communes with probability proportional to their adults, without
  replacement (about 4 of 9 per district), so Hartley & Rao's variance with every census
  commune's size (:func:`census_pps`; each commune's own pi_i, where the equal-probability fpc
  1 - n_h/N_h overstated the between-commune variance: seeds 0–49 of ``bench_recovery``, city
  knowledge, mean se / empirical sd 1.13 with it, 1.07 with Hartley–Rao), and the second stage's
  (people within communes) variance kept whole (``second_stage=True``), each commune's within
  term weighted by its pi_i. For one stage it is the Yates–Grundy form of R's Hartley–Rao
  approximation, ``svydesign(ids = ~psu, strata = ~stratum, fpc = ~pi, pps = HR(psum),
  variance = "YG")`` (the formula of R's ``HRDcheck``; checked by hand, not run in R), which has
  no second stage. The
  equal-probability fpc (:func:`census_psus`, R's multistage ``fpc = ~N_h + M``) stays an option.
* Degrees of freedom ``"satterthwaite-pooled"``: each domain's Welch–Satterthwaite df of its variance
  components (a stratum's between-commune term has n_h - 1 df, a commune's within term m_i - 1),
  so a district cell is neither given the round's t(27) nor held to t(3) when most of its
  variance is within communes; in the df formula each district's between-commune term is its within
  terms times the round's pooled between/within ratio, so a cell's df does not rise just where its
  own between term came out small (with the plug-in df, district cells given more than 20 df covered
  0.83 and those given 4 or fewer 0.996; ``docs/analysis.md``). ``df="domain"`` is R's
  ``svyby(..., svyciprop)`` rule (the PSUs holding the domain's members minus their strata).
* ``lonely_psu="adjust"``.
* Weights post-stratified to the census's adults of each round × district
  (:func:`analysis.weights.design_weights` with ``calibrate=True``, as the server loads them): on the
  fixed design's self-weighting draw a factor of exactly 1; on a planned round's tilted draw it takes
  the random share of each district out of the city's and the target groups' figures. The variances
  do not take the calibration in (``calibrated=False``), which on planned rounds adds back the
  between-district share it removed; the variance that takes it in (``calibrated=True``,
  :class:`analysis._taylor.Calibrated`) came out shorter still there, and both fall short of a planned
  round's errors with Hartley–Rao's first stage (``docs/analysis.md``, "The next round's sample").
Changes between rounds (:func:`differences`) combine the rounds' df by Welch. Pass
``df="design", fpc=None, second_stage=False`` for the whole design's df and the with-replacement
variance. ``df="satterthwaite-corrected"`` (the plug-in df's downward bias removed) was measured
and not adopted: it lowered the district cells' coverage to 0.931–0.943 (``docs/analysis.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis._taylor import require_columns
from analysis.errors import VariableInvalid
from analysis.population import communes as census_communes
from analysis.survey import Design
from analysis.survey import PpsSizes
from analysis.survey import PsuCounts

__all__ = ["round_levels", "differences", "estimate", "report_design", "census_psus", "census_pps",
           "census_first_stage"]

#: Stand-in for "the census's communes per district, looked up from the ``strata`` column".
CENSUS = "census"

#: Degrees-of-freedom rule of the reports' intervals (:class:`analysis.survey.Design` ``df``).
REPORT_DF = "satterthwaite-pooled"

#: Columns of a level table besides its keys.
LEVEL_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "df", "deff", "n"]


def census_psus(column: str = "stratum", population=None) -> PsuCounts:
    """First-stage fpc of the field design: communes per district (``column`` holds the district code)."""
    places = census_communes() if population is None else population
    return PsuCounts(column, places.groupby("district_code").size().astype("float64").to_dict())


def census_pps(column: str = "stratum", unit: str = "psu", population=None) -> PpsSizes:
    """PPS first stage of the field design: every census commune's adults (15–79) per district.

    ``column`` holds the district code and ``unit`` the commune key of each row (the communes are
    drawn with probability proportional to their adults, as ``analysis.weights`` assumes).
    """
    places = census_communes() if population is None else population
    sizes = {str(code): dict(zip(group["commune_key"].astype(str), group["adult_population"].astype(float),
                                 strict=True))
             for code, group in places.groupby("district_code")}
    return PpsSizes(column, unit, sizes)


def census_first_stage(district: str = "stratum", commune: str = "psu"):
    """The reports' first-stage correction for a frame whose ``district`` column holds the district code
    and ``commune`` column the commune key (the columns of ``analysis.weights``): the communes are drawn
    with probability proportional to their adults, so Hartley–Rao's PPS correction (:func:`census_pps`).
    Rows of a round drawn by a plan carry their recorded sizes (``mos``, ``mos_total``, ``mos_sumsq``,
    ``pi_commune``: :func:`analysis.next_round.design_columns`), which :class:`analysis.survey.PpsSizes`
    uses instead."""
    return census_pps(district, commune)


def report_design(**overrides) -> dict:
    """Keyword arguments of :class:`analysis.survey.Design` for the reports (see the module docstring)."""
    options = {"weight": "weight", "strata": "stratum", "psu": "psu", "lonely_psu": "adjust",
               "df": REPORT_DF, "fpc": census_first_stage(), "second_stage": True}
    options.update(overrides)
    return options


def estimate(design: Design, indicator: str, by=None, *, level=0.95) -> pd.DataFrame:
    """Mean (``knowledge`` and other scores) or proportion (0/1 indicators) of ``indicator``."""
    column = design.frame[indicator]
    binary = pd.api.types.is_bool_dtype(column) or set(pd.unique(column.dropna())) <= {0, 1}
    method = design.proportion if binary and indicator != "knowledge" else design.mean
    return method(indicator, by=by, level=level)


def round_levels(frame, *, indicators, rounds, weight="weight", strata="stratum", psu="psu", level=0.95,
                 lonely_psu="adjust", columns=LEVEL_COLUMNS, df=REPORT_DF, fpc=CENSUS,
                 second_stage=True, calibrated=False) -> pd.DataFrame:
    """Design-based levels per round × district (``stratum``) and for the city (``all``).

    Returns ``round, district_code, indicator`` and ``columns`` (default :data:`LEVEL_COLUMNS`; any
    of :data:`analysis.survey.STAT_COLUMNS`); one design per round. ``df``, ``fpc`` and
    ``second_stage`` as in :class:`analysis.survey.Design`; the default is the reports' convention
    (:data:`CENSUS`: the census's PPS first stage, :func:`census_first_stage` of ``strata`` and ``psu``).
    """
    columns = list(columns)
    require_columns(frame, ["round", weight, strata, psu, *indicators])
    if isinstance(fpc, str) and fpc == CENSUS:
        fpc = census_first_stage(strata, psu)
    rows = []
    for r in rounds:
        this = frame[frame["round"] == r].reset_index(drop=True)
        if this.empty:
            continue
        design = Design(this, weight=weight, strata=strata, psu=psu, lonely_psu=lonely_psu, df=df, fpc=fpc,
                        second_stage=second_stage, calibrated=calibrated)
        for indicator in indicators:
            by_district = estimate(design, indicator, strata, level=level)
            by_district = by_district.rename(columns={strata: "district_code"})
            city = estimate(design, indicator, level=level)
            city.insert(0, "district_code", "all")
            table = pd.concat([by_district, city], ignore_index=True)
            table["district_code"] = table["district_code"].astype(str)
            table.insert(0, "indicator", indicator)
            table.insert(0, "round", int(r))
            rows.append(table[["round", "district_code", "indicator", *columns]])
    if not rows:
        return pd.DataFrame(columns=["round", "district_code", "indicator", *columns])
    return pd.concat(rows, ignore_index=True)


def differences(levels, *, a, b, keys, level=0.95, df="welch") -> pd.DataFrame:
    """Change from round ``a`` to ``b`` of each ``keys`` row present in both rounds.

    ``levels`` has ``round``, the ``keys`` and ``estimate, se, df, n``. Returns the keys,
    ``change, change_low, change_high, change_se, change_df`` and ``n`` (the smaller round's count,
    the one a small-cell rule must look at). ``df="welch"`` (the default, for the reports'
    Satterthwaite levels): ``(v_a + v_b)^2 / (v_a^2/df_a + v_b^2/df_b)`` rounded down;
    ``df="sum"``: ``df_a + df_b``, R's ``degf`` of the pooled design (with ``df="domain"`` levels).
    """
    if df not in ("welch", "sum"):
        raise VariableInvalid(f"df must be 'welch' or 'sum', got {df!r}")
    keys = list(keys)
    left = levels[levels["round"] == a].set_index(keys)
    right = levels[levels["round"] == b].set_index(keys)
    both = left.index.intersection(right.index, sort=False)
    left, right = left.loc[both], right.loc[both]
    change = right["estimate"].to_numpy() - left["estimate"].to_numpy()
    se = np.sqrt(left["se"].to_numpy() ** 2 + right["se"].to_numpy() ** 2)
    df_a, df_b = left["df"].to_numpy(), right["df"].to_numpy()
    total = df_a + df_b
    if df == "welch":
        va, vb = left["se"].to_numpy() ** 2, right["se"].to_numpy() ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            welch = (va + vb) ** 2 / (va**2 / df_a + vb**2 / df_b)
        total = np.where(np.isfinite(welch), np.floor(welch + 1e-9), total).astype("int64")
    df = total
    with np.errstate(invalid="ignore"):
        q = np.where(df > 0, stats.t.ppf(0.5 + level / 2, np.maximum(df, 1)), np.nan)
    out = both.to_frame(index=False)
    out["change"] = change
    out["change_low"] = change - q * se
    out["change_high"] = change + q * se
    out["change_se"] = se
    out["change_df"] = df
    out["n"] = np.minimum(left["n"].to_numpy(), right["n"].to_numpy()).astype("int64")
    return out
