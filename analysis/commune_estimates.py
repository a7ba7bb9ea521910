"""Commune estimates for one survey round: direct, Fay–Herriot EBLUP, model estimate, benchmarked.

Every one of the 85 communes of the 2019 census gets a row, sampled or not.

Direct estimates and their smoothed variances
---------------------------------------------
A sampled commune's direct estimate is the weighted mean of its respondents (a proportion for a
0/1 indicator). Its variance is *not* the commune's own ``s_i² / n_i``: with 10–60 respondents
that variance is itself noisy (a sample variance from 12 people has a CV of about 40%), it is 0
when every respondent answers alike (a proportion of 0 or 1, common for ``hotline_aware`` in
small communes), and for proportions it moves with the estimate, so the Fay–Herriot weights would
favour communes whose estimates happen to be extreme. We use a generalised variance function
instead: ``V_i = s²_w,d × k_i / n_i`` with ``s²_w,d`` the pooled within-commune variance of the
communes sampled in the same district (a hundred or more respondents, so stable), ``n_i`` the commune's
respondents and ``k_i = n_i Σw² / (Σw)²`` Kish's design effect of unequal weights within the
commune (1 with the survey's equal within-commune weights). A district pool with fewer than
``MIN_POOL_DF`` degrees of freedom, or no variation at all, falls back to the city's pool. The
raw ``s_i² / n_i`` is kept as ``direct_se_raw`` for comparison. As with any FH fit, V_i is then
treated as known.

Model (covariates from the census, :mod:`analysis.population`)
--------------------------------------------------------------
``theta_i = b0 + b1 urban_i + u_i`` (``COVARIATES``): ``urban`` (ward or town, as the census
classifies them) is the one commune-level census variable with a known relation to awareness
and risk (the campaign targets rural communes for that reason). Two coefficients for about 36
sampled communes leave ~34 degrees of freedom for the area variance A. Left out, with reasons:

* district fixed effects: 8 more coefficients, each estimated from the 4 sampled communes of
  its district, so the synthetic part would collapse onto noisy district means; the district
  level enters instead through benchmarking (below), which uses the design-based district
  estimate from all of the district's respondents;
* ``district_kind`` (quận vs huyện): nearly collinear with ``urban`` (every unit of a quận is a
  ward);
* ``adult_share`` (adults 15–79 over population): the census has age bands per district and
  urban/rural only, so within a district it merely re-expresses ``urban``; across districts it
  is a coarse district covariate, which benchmarking already covers;
* population size: no known relation to awareness.

On generated seasons (seeds 300–311, 8,000 interviews, knowledge and hotline in 4 rounds) adding
``adult_share`` raised the mean squared error of unsampled communes' estimates by 3–4% and
adding log population by 8–15%; no covariate at all raised it by 30–60% (before benchmarking).
Other covariates can be passed (``covariates``, columns of :func:`census_covariates`).

Estimates (columns)
-------------------
Sampled communes (``source`` ``small-area``): EBLUP ``gamma y_i + (1 - gamma) x_i'beta`` and its
Prasad–Rao MSE (:func:`analysis.small_area.fay_herriot`, REML). Communes without interviews
(``source`` ``model``): the synthetic estimate ``x_i'beta`` with MSE ``A + x_i' (X'V^-1 X)^-1
x_i`` (g1 = A because gamma = 0, plus the g2-type term for the estimated beta). That MSE is
mostly the estimated A, itself uncertain with ~36 areas, so model rows use a t quantile with
Satterthwaite degrees of freedom ``2 MSE² / var(A_hat)`` (between 2 and m − p); sampled rows
keep the normal quantile, their g3 term already carries the uncertainty of A_hat.

Benchmarking
------------
Within each district the adult-population-weighted mean of the commune estimates is made equal
to the design-based district estimate (:class:`analysis.survey.Design` domain mean by district).
The shift of commune i is proportional to ``adult_population_i × MSE_i``
(:func:`analysis.small_area.benchmark` ``method="weighted"``: Datta, Ghosh, Steorts & Maples
2011, the smallest change in MSE-weighted loss): precise EBLUPs of well-sampled communes barely
move and the uncertain model estimates of communes without interviews absorb most of the
discrepancy. (A uniform ratio or difference adjustment moved the sampled communes' EBLUPs so
much that they lost to the direct estimates.) A shift that would cross 0 or 1 stops at the
bound and the rest is spread again (:func:`_bounded_benchmark`).

Benchmarking makes the commune table agree with the published district table, but it moves the
estimates off the EBLUP, the best predictor under the model, so the MSE can only grow: we report
``mse_benchmarked = mse + (benchmarked − eblup)²`` (Steorts & Ghosh 2013, *Statistica Sinica*
23: the MSE of a benchmarked EB estimator is the EB estimator's plus the expected squared
adjustment; estimated here by the observed one). ``estimate``, ``se`` (its root) and the 95%
interval (clipped to [0, 1]) are the benchmarked figures; ``eblup`` and ``mse`` are kept for
comparison. Measured cost (``tests/bench/bench_small_area.py``): a 6–28% larger squared error
than without benchmarking, still well below the direct estimate's in sampled communes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis._taylor import require_columns
from analysis.disclosure import MIN_N
from analysis.disclosure import suppress_small
from analysis.errors import VariableInvalid
from analysis.levels import census_first_stage
from analysis.levels import report_design
from analysis.population import communes as census_communes
from analysis.small_area import _design_matrix
from analysis.small_area import benchmark
from analysis.small_area import fay_herriot
from analysis.survey import Design

__all__ = ["COVARIATES", "MIN_POOL_DF", "SOURCES", "commune_estimates", "census_covariates",
           "suppress_communes"]

#: Census covariates of the commune model (numeric columns of :func:`census_covariates`).
COVARIATES = ("urban",)

#: Fewest degrees of freedom of a district's pooled within-commune variance before the city's is used.
MIN_POOL_DF = 20

#: ``source`` of a commune row: EBLUP of a sampled commune, or the model for one without interviews.
SOURCES = ("small-area", "model")

#: Figures of a commune row, withheld for small cells.
FIGURES = ("direct", "direct_se", "direct_se_raw", "synthetic", "eblup", "mse", "rmse", "gamma",
           "shrinkage", "benchmark_adjustment", "mse_benchmarked", "estimate", "se", "ci_low", "ci_high")


def census_covariates() -> pd.DataFrame:
    """Per census commune: keys, names, ``adult_population`` and the model's covariate columns."""
    places = census_communes()
    places["urban"] = (places["area"] == "urban").astype("float64")
    places["adult_share"] = places["adult_population"] / places["population"]
    places["log_population"] = np.log(places["population"].astype("float64"))
    return places[["district_code", "district_name", "commune_key", "commune_name", "area",
                   "population", "adult_population", "urban", "adult_share", "log_population"]]


def _values(frame, column):
    y = frame[column]
    if pd.api.types.is_bool_dtype(y) or isinstance(y.dtype, pd.BooleanDtype):
        return y.astype("Float64").astype("float64"), True
    if not pd.api.types.is_numeric_dtype(y):
        raise VariableInvalid(f"indicator {column!r} must be numeric or boolean", column=column)
    return y.astype("float64"), False


def _direct(this, values, weight):
    """Direct estimate, raw and smoothed variance per sampled commune (one groupby, no row loop)."""
    ok = values.notna().to_numpy()
    w = this[weight].to_numpy(dtype="float64")[ok]
    y = values.to_numpy()[ok]
    work = pd.DataFrame({"district_code": this["district_code"].to_numpy()[ok],
                         "commune_key": this["commune_key"].to_numpy()[ok],
                         "w": w, "wy": w * y, "wyy": w * y * y, "ww": w * w, "n": 1})
    g = work.groupby(["district_code", "commune_key"], sort=True, as_index=False).sum()
    g = g[g["w"] > 0].copy()
    g["direct"] = g["wy"] / g["w"]
    # within-commune weighted sum of squares and its n - 1 degrees of freedom
    ss = np.maximum(g["wyy"] - g["wy"] ** 2 / g["w"], 0.0) * g["n"] / g["w"]
    df = g["n"] - 1
    g["kish"] = g["n"] * g["ww"] / g["w"] ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        g["direct_se_raw"] = np.sqrt(np.where(df > 0, ss / df, np.nan) * g["kish"] / g["n"])
    pools = pd.DataFrame({"ss": ss, "df": df, "d": g["district_code"]}).groupby("d")[["ss", "df"]].sum()
    city = float(ss.sum() / df.sum()) if df.sum() > 0 else 0.0
    local = pools["ss"] / pools["df"].where(pools["df"] > 0)
    use_local = (pools["df"] >= MIN_POOL_DF) & (local > 0)
    pooled = local.where(use_local, city)
    if city <= 0:
        # no variation anywhere: a Jeffreys-type floor (half an observation at 0 and at 1)
        n = float(g["n"].sum())
        pooled[:] = 0.25 / (n + 1)
    g["pooled_var"] = g["district_code"].map(pooled).to_numpy()
    g["direct_var"] = g["pooled_var"] * g["kish"] / g["n"]
    return g[["district_code", "commune_key", "n", "direct", "direct_var", "direct_se_raw"]]


def _targets(this, values, weight, strata, psu, lonely_psu):
    """Design-based district estimates (domain means by district over the full design).

    The reports' design (:func:`analysis.levels.report_design`), as for the levels table; only the
    point estimate is used, which no variance convention changes.
    """
    frame = pd.DataFrame({"y": values.to_numpy(), weight: this[weight].to_numpy(),
                          "district_code": this["district_code"].to_numpy(),
                          strata: this[strata].to_numpy(), psu: this[psu].to_numpy()})
    design = Design(frame, **report_design(weight=weight, strata=strata, psu=psu, lonely_psu=lonely_psu,
                                           fpc=census_first_stage(strata, psu)))
    est = design.mean("y", by="district_code")
    return est.set_index("district_code")["estimate"]


def _bounded_benchmark(out, targets):
    """MSE-weighted benchmarking that keeps every estimate in [0, 1].

    A shift that would carry an area past 0 or 1 (a large shift of an uncertain model estimate
    of a proportion near a bound) stops at the bound; the district's remaining discrepancy is
    spread again over its other areas, until none crosses (at most one pass per area). The
    constraint then still holds exactly unless a target itself lies outside what [0, 1] allows.
    """
    est = out["eblup"].to_numpy(dtype="float64").copy()
    w = out["adult_population"].to_numpy(dtype="float64")
    district = out["district_code"]
    has_target = district.isin(targets.index).to_numpy()
    fixed = np.zeros(len(out), dtype=bool)
    for _ in range(len(out)):
        free = has_target & ~fixed
        fixed_sum = pd.Series(np.where(fixed, w * est, 0.0)).groupby(district.to_numpy()).sum()
        free_w = pd.Series(np.where(free, w, 0.0)).groupby(district.to_numpy()).sum()
        whole_w = pd.Series(w).groupby(district.to_numpy()).sum()
        target = (targets.reindex(whole_w.index) * whole_w - fixed_sum) / free_w.where(free_w > 0)
        free &= district.map(target).notna().to_numpy()
        if not free.any():
            break
        bench = benchmark(out[free], estimate="eblup", size="adult_population", group="district_code",
                          targets=target.dropna(), method="weighted", spread="mse")
        est[free] = bench["benchmarked"].to_numpy()
        over = free & ((est < 0) | (est > 1))
        if not over.any():
            break
        est[over] = np.clip(est[over], 0.0, 1.0)
        fixed |= over
    return np.clip(est, 0.0, 1.0)


def commune_estimates(frame, *, year, indicator, weight="weight", strata="stratum", psu="psu",
                      covariates=COVARIATES, method="REML", level=0.95, lonely_psu="adjust",
                      targets=None) -> pd.DataFrame:
    """Benchmarked Fay–Herriot estimates of one indicator for every census commune in one round.

    Parameters
    ----------
    frame : pandas.DataFrame
        Weighted respondents (``analysis.weights.design_weights``) with ``round``,
        ``district_code``, ``commune_key``, the design columns and ``indicator``.
    year : int
        The survey round.
    indicator : str
        A score in [0, 1] (e.g. ``knowledge``) or a 0/1 indicator (``at_risk``, ``hotline_aware``).
    covariates : sequence of str
        Columns of :func:`census_covariates` for the model (numeric).
    method : {"REML", "ML", "FH"}
        Estimator of the area variance (:func:`analysis.small_area.fay_herriot`).
    targets : mapping or pandas.Series, optional
        Benchmark per ``district_code``; default the design-based district estimates.

    Returns
    -------
    pandas.DataFrame
        One row per census commune (85): ``district_code, district_name, commune_key,
        commune_name, area, adult_population, n, source, direct, direct_se, direct_se_raw,
        synthetic, eblup, mse, rmse, gamma, shrinkage, benchmark_target, benchmark_adjustment,
        mse_benchmarked, estimate, se, ci_low, ci_high, df`` (``df`` the interval's t degrees of
        freedom; NaN for sampled communes, whose interval uses the normal quantile). ``.attrs``:
        ``indicator, year, method, covariates, sigma2_u, coefficients, sampled, loglike``.

    Raises
    ------
    ColumnMissing, VariableInvalid, ModelInvalid, ConvergenceFailed
    """
    require_columns(frame, ["round", "district_code", "commune_key", weight, strata, psu, indicator])
    covariates = list(covariates)
    places = census_covariates()
    require_columns(places, covariates)
    this = frame[frame["round"] == year].reset_index(drop=True)
    if this.empty:
        raise VariableInvalid(f"no respondents in round {year}")
    values, _binary = _values(this, indicator)
    if values.notna().sum() == 0:
        raise VariableInvalid(f"no answers to {indicator!r} in round {year}", column=indicator)
    direct = _direct(this, values, weight)
    direct = direct[direct["commune_key"].isin(places["commune_key"])]
    if targets is None:
        targets = _targets(this, values, weight, strata, psu, lonely_psu)
    targets = pd.Series(targets, dtype="float64")

    out = places.merge(direct.drop(columns="district_code"), on="commune_key", how="left")
    out["n"] = out["n"].fillna(0).astype("int64")
    sampled = out[out["n"] > 0].reset_index(drop=True)
    # a covariate that does not vary among the sampled communes (say, a small round that reached
    # only wards) is collinear with the intercept and says nothing: leave it out, and say so
    dropped = [c for c in covariates if sampled[c].nunique(dropna=False) < 2]
    covariates = [c for c in covariates if c not in dropped]
    fit = fay_herriot(sampled, estimate="direct", variance="direct_var", covariates=covariates,
                      area="commune_key", method=method, level=level)
    a = fit.attrs["sigma2_u"]
    beta = np.asarray(fit.attrs["coefficients"]["estimate"])
    x_all, _ = _design_matrix(out, covariates)
    x_s, _ = _design_matrix(sampled, covariates)
    q = np.linalg.inv((x_s.T / (a + sampled["direct_var"].to_numpy())) @ x_s)
    out["synthetic"] = x_all @ beta
    model_mse = a + np.einsum("ij,jk,ik->i", x_all, q, x_all)
    fit = fit.set_index("commune_key")
    is_s = out["n"] > 0
    keys = out["commune_key"]
    out["direct_se"] = np.sqrt(out["direct_var"])
    out["eblup"] = np.where(is_s, keys.map(fit["eblup"]), out["synthetic"])
    out["mse"] = np.where(is_s, keys.map(fit["mse"]), model_mse)
    out["rmse"] = np.sqrt(out["mse"])
    out["gamma"] = np.where(is_s, keys.map(fit["gamma"]), 0.0)
    out["shrinkage"] = 1 - out["gamma"]
    out["source"] = np.where(is_s, SOURCES[0], SOURCES[1])

    out["benchmark_target"] = out["district_code"].map(targets)
    out["estimate"] = _bounded_benchmark(out, targets)
    out["benchmark_adjustment"] = np.where(out["benchmark_target"].notna(), out["estimate"] - out["eblup"],
                                           np.nan)
    # benchmarking moves the estimate off the EBLUP: its MSE grows by the squared shift
    out["mse_benchmarked"] = out["mse"] + (out["estimate"] - out["eblup"]) ** 2
    out["se"] = np.sqrt(out["mse_benchmarked"])
    # a model row's MSE is mostly the estimated A, itself uncertain with ~36 areas: its t
    # quantile has Satterthwaite df 2 MSE² / var(A_hat) (asymptotic var of REML/ML; FH moments
    # is 2m / (sum 1/(A+V))²), between 2 and m - p; sampled rows keep the normal quantile,
    # their Prasad–Rao g3 term already carries the uncertainty of A_hat
    inv = 1 / (a + sampled["direct_var"].to_numpy())
    m, p = x_s.shape
    var_a = (2 * m / inv.sum() ** 2) if method == "FH" else 2 / np.sum(inv**2)
    df = np.clip(2 * out["mse_benchmarked"] ** 2 / var_a, 2, max(m - p, 2))
    # the interval's t degrees of freedom, kept so that a bootstrap can draw with the same tails
    # (NaN where the interval uses the normal quantile)
    out["df"] = np.where(is_s, np.nan, df)
    quantile = np.where(is_s, stats.norm.ppf(0.5 + level / 2), stats.t.ppf(0.5 + level / 2, df))
    out["ci_low"] = np.clip(out["estimate"] - quantile * out["se"], 0.0, 1.0)
    out["ci_high"] = np.clip(out["estimate"] + quantile * out["se"], 0.0, 1.0)
    columns = ["district_code", "district_name", "commune_key", "commune_name", "area", "adult_population",
               "n", "source", "direct", "direct_se", "direct_se_raw", "synthetic", "eblup", "mse", "rmse",
               "gamma", "shrinkage", "benchmark_target", "benchmark_adjustment", "mse_benchmarked",
               "estimate", "se", "ci_low", "ci_high", "df"]
    result = out[columns].copy()
    result.attrs.update({"indicator": indicator, "year": year, "method": method, "covariates": covariates,
                         "sigma2_u": a, "coefficients": fit.attrs["coefficients"],
                         "covariates_dropped": dropped, "sampled": int(is_s.sum()),
                         "loglike": fit.attrs["loglike"]})
    return result


def suppress_communes(table, *, min_n=MIN_N) -> pd.DataFrame:
    """Withhold the figures of sampled communes with fewer than ``min_n`` respondents.

    A smoothed figure is withheld too: the EBLUP is ``gamma × direct + (1 − gamma) × synthetic``
    and both weights are published, so the direct estimate of the handful of respondents could be
    recovered from it. Communes without interviews (``n == 0``) are not small cells: their model
    estimate uses none of their people's answers.
    """
    require_columns(table, ["n"])
    small = (table["n"] > 0) & (table["n"] < min_n)
    columns = [c for c in FIGURES if c in table.columns]
    flagged = table.assign(_n=np.where(small, 0, min_n))
    return suppress_small(flagged, n="_n", min_n=min_n, columns=columns).drop(columns="_n")
