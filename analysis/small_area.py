"""Small-area estimation: the Fay–Herriot area-level model and benchmarking.

Model: direct estimate y_i = theta_i + e_i with e_i ~ N(0, V_i), V_i the (known) design
variance of the direct estimate; theta_i = x_i'beta + u_i with u_i ~ N(0, A).
EBLUP: gamma_i y_i + (1 - gamma_i) x_i'beta_hat, gamma_i = A / (A + V_i).

The variance A is fitted by Fisher scoring exactly as R ``sae::eblupFH`` (start at the
median of V, stop when the relative change is below ``precision``), so results match R
and samplics to their printed digits; the MSE is ``sae::mseFH``: Prasad–Rao
g1 + g2 + 2 g3 for REML, with the Datta–Lahiri bias term for ML and FH moments.

Direct variances of communes with very few respondents (or p = 0/1) are unstable; smooth
them (e.g. a generalised variance function) before fitting. Areas with zero variance
would get gamma = 1 and are rejected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis._taylor import numeric
from analysis._taylor import require_columns
from analysis.errors import ConvergenceFailed
from analysis.errors import ModelInvalid
from analysis.errors import VariableInvalid

METHODS = ("REML", "ML", "FH")


def _design_matrix(frame, covariates):
    """Intercept plus covariates (list of columns, or a formula right-hand side)."""
    from formulaic import model_matrix

    if isinstance(covariates, str):
        rhs = covariates
    else:
        covariates = list(covariates)
        require_columns(frame, covariates)
        terms = []
        for c in covariates:
            numeric_ok = pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(
                frame[c]
            )
            terms.append(f"`{c}`" if numeric_ok else f"C(`{c}`)")
        rhs = " + ".join(terms) if terms else "1"
    try:
        x = model_matrix(rhs, frame, na_action="raise")
    except Exception as exc:  # formulaic raises many types; all mean "bad covariates"
        raise ModelInvalid(f"cannot build covariates {rhs!r}: {exc}", covariates=rhs) from exc
    return x.to_numpy(dtype="float64"), list(x.columns)


def _fit_variance(y, x, v, method, precision, max_iter):
    """Fisher scoring for A (R sae::eblupFH); returns A, iterations, last Fisher info."""
    m, p = x.shape
    a = float(np.median(v))
    info = np.nan
    for k in range(1, max_iter + 1):
        vi = 1 / (a + v)
        xtvi = x.T * vi
        q = np.linalg.inv(xtvi @ x)
        if method == "FH":
            beta = q @ xtvi @ y
            resid = y - x @ beta
            score = np.sum(resid**2 * vi) - (m - p)
            info = np.sum(vi)
        else:
            proj = np.diag(vi) - xtvi.T @ q @ xtvi
            py = proj @ y
            if method == "REML":
                score = -0.5 * np.trace(proj) + 0.5 * py @ py
                info = 0.5 * np.sum(proj * proj.T)
            else:  # ML
                score = -0.5 * np.sum(vi) + 0.5 * py @ py
                info = 0.5 * np.sum(vi**2)
        # sae lets A go negative between iterations; when the maximum is at the boundary
        # that oscillates, so truncate at 0 and stop once the boundary is reached twice
        new = max(a + score / info, 0.0)
        diff = abs((new - a) / a) if a > 0 else abs(new - a)
        a = new
        if diff <= precision:
            return a, k, info
    raise ConvergenceFailed(
        f"{method} fit of the area variance did not converge in {max_iter} iterations",
        method=method,
    )


def fay_herriot(
    frame,
    *,
    estimate,
    variance,
    covariates,
    area,
    method="REML",
    precision=1e-4,
    max_iter=100,
    level=0.95,
):
    """Fit a Fay–Herriot model and return per-area EBLUPs with Prasad–Rao MSEs.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per area (e.g. commune) with its direct estimate and covariates.
    estimate : str
        Column of direct (design-based) estimates.
    variance : str
        Column of their sampling variances (``se ** 2``), treated as known.
    covariates : list of str or str
        Area-level auxiliary columns (an intercept is always added; non-numeric columns
        enter as categories), or a formulaic right-hand side such as ``"C(major_area)"``.
    area : str
        Area identifier column.
    method : {"REML", "ML", "FH"}
        Estimator of the area variance A.
    precision, max_iter
        Fisher-scoring stopping rule (relative change of A), as R ``sae``.
    level : float
        Level of the coefficient CIs (normal, as in ``sae``).

    Returns
    -------
    pandas.DataFrame
        One row per area: ``area`` column, ``direct``, ``direct_se``, ``synthetic``
        (x'beta), ``eblup``, ``mse``, ``rmse``, ``cv`` (rmse/eblup), ``gamma`` (weight of
        the direct estimate, A/(A+V)) and ``shrinkage`` (1 - gamma, the pull towards the
        synthetic estimate). The fit is in ``.attrs``: ``method``, ``sigma2_u`` (A),
        ``coefficients`` (DataFrame-ready dict: ``term``, ``estimate``, ``se``, ``ci_low``,
        ``ci_high``), ``iterations``, ``loglike``.

    Raises
    ------
    ColumnMissing, VariableInvalid, ModelInvalid, ConvergenceFailed
    """
    if method not in METHODS:
        raise ModelInvalid(f"method must be one of {METHODS}, got {method!r}", method=method)
    require_columns(frame, [estimate, variance, area])
    if frame[area].duplicated().any():
        raise VariableInvalid(f"area column {area!r} has duplicates", column=area)
    y = numeric(frame, estimate)
    v = numeric(frame, variance)
    if np.isnan(y).any() or np.isnan(v).any():
        raise VariableInvalid("direct estimates and variances must be complete")
    if (v <= 0).any():
        raise VariableInvalid(
            "direct variances must be positive (smooth zero variances first)", column=variance
        )
    x, terms = _design_matrix(frame, covariates)
    m, p = x.shape
    if m <= p + 1:
        raise ModelInvalid(f"{m} areas for {p} coefficients and a variance")
    if np.linalg.matrix_rank(x) < p:
        raise ModelInvalid("covariates are collinear")
    a, iterations, _ = _fit_variance(y, x, v, method, precision, max_iter)

    vi = 1 / (a + v)
    xtvi = x.T * vi
    q = np.linalg.inv(xtvi @ x)
    beta = q @ xtvi @ y
    synthetic = x @ beta
    gamma = a * vi
    eblup = synthetic + gamma * (y - synthetic)

    # MSE (sae::mseFH): g1 + g2 + 2 g3 [- bias term for ML and FH]
    b = v * vi  # shrinkage towards the synthetic estimate
    g1 = v * (1 - b)
    g2 = b**2 * np.einsum("ij,jk,ik->i", x, q, x)
    if method == "FH":
        var_a = 2 * m / np.sum(vi) ** 2
        bias = 2 * (m * np.sum(vi**2) - np.sum(vi) ** 2) / np.sum(vi) ** 3
    else:
        var_a = 2 / np.sum(vi**2)
        bias = -np.trace(q @ ((x.T * vi**2) @ x)) / np.sum(vi**2) if method == "ML" else 0.0
    g3 = b**2 * var_a / (a + v)
    mse = g1 + g2 + 2 * g3 - bias * b**2

    resid = y - synthetic
    loglike = -0.5 * np.sum(np.log(2 * np.pi * (a + v)) + resid**2 / (a + v))
    coef_se = np.sqrt(np.diag(q))
    z = stats.norm.ppf(0.5 + level / 2)
    out = pd.DataFrame(
        {
            area: frame[area].to_numpy(),
            "direct": y,
            "direct_se": np.sqrt(v),
            "synthetic": synthetic,
            "eblup": eblup,
            "mse": mse,
            "rmse": np.sqrt(mse),
            "cv": np.sqrt(mse) / np.abs(eblup),
            "gamma": gamma,
            "shrinkage": 1 - gamma,
        }
    )
    out.attrs.update(
        {
            "method": method,
            "sigma2_u": float(a),
            "coefficients": {
                "term": terms,
                "estimate": beta.tolist(),
                "se": coef_se.tolist(),
                "ci_low": (beta - z * coef_se).tolist(),
                "ci_high": (beta + z * coef_se).tolist(),
            },
            "iterations": iterations,
            "loglike": float(loglike),
        }
    )
    return out


def benchmark(frame, *, estimate, size, group, targets, method="ratio", spread=None):
    """Benchmark area estimates so that they add up to higher-level (district) estimates.

    For each group g (e.g. district) with target T_g (e.g. its design-based direct mean),
    the population-weighted mean of the benchmarked area estimates equals T_g.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per area, e.g. the output of :func:`fay_herriot` joined to census sizes.
    estimate : str
        Column to benchmark (e.g. ``"eblup"``).
    size : str
        Population size of each area (weights of the aggregation).
    group : str
        Higher-level unit of each area.
    targets : mapping or pandas.Series
        Target mean per group value.
    method : {"ratio", "difference", "weighted"}
        ``"ratio"`` multiplies each group's estimates by one factor (keeps them positive,
        suits proportions far from 1); ``"difference"`` adds one constant per group;
        ``"weighted"`` adds to area i a shift proportional to ``size_i × spread_i``: the
        benchmarked estimator of Datta, Ghosh, Steorts & Maples (2011, *TEST* 20) that moves
        the estimates as little as possible in the loss ``sum_i (shift_i² / spread_i)``. With
        ``spread`` the MSE, precise estimates (well-sampled areas) barely move and uncertain
        ones (areas without a sample) absorb the discrepancy.
    spread : str, optional
        Column of positive spreads (e.g. ``"mse"``), required by ``"weighted"``.

    Returns
    -------
    pandas.DataFrame
        ``frame`` with ``benchmarked`` and ``benchmark_adjustment`` (factor, or shift of
        the area).
    """
    if method not in ("ratio", "difference", "weighted"):
        raise ModelInvalid(f"method must be 'ratio', 'difference' or 'weighted', got {method!r}")
    if (method == "weighted") != (spread is not None):
        raise ModelInvalid("spread is required by, and only by, method='weighted'")
    require_columns(frame, [estimate, size, group] + ([spread] if spread else []))
    targets = pd.Series(targets, dtype="float64")
    missing = sorted(set(frame[group]) - set(targets.index), key=str)
    if missing:
        raise VariableInvalid(f"no benchmark target for group(s) {missing[:10]}", groups=missing)
    est = numeric(frame, estimate)
    w = numeric(frame, size)
    if np.isnan(est).any() or np.isnan(w).any() or (w < 0).any():
        raise VariableInvalid("estimates and sizes must be complete; sizes >= 0")
    work = pd.DataFrame({"g": frame[group].to_numpy(), "e": est, "w": w})
    work["we"] = work.e * work.w
    agg = work.groupby("g", sort=False).agg(we=("we", "sum"), w=("w", "sum"))
    current = agg.we / agg.w
    target = targets.reindex(agg.index)
    if method == "ratio":
        if (current == 0).any():
            raise VariableInvalid("ratio benchmarking needs a non-zero aggregate per group")
        adjustment = target / current
        factor = work.g.map(adjustment).to_numpy()
        bench = est * factor
    elif method == "difference":
        adjustment = target - current
        factor = work.g.map(adjustment).to_numpy()
        bench = est + factor
    else:
        phi = numeric(frame, spread)
        if np.isnan(phi).any() or (phi <= 0).any():
            raise VariableInvalid(f"spread column {spread!r} must be complete and positive")
        # Lagrange solution of min sum(shift²/phi) s.t. sum(w shift) = W (target - current)
        work["wwp"] = work.w**2 * phi
        sums = work.groupby("g", sort=False).agg(w=("w", "sum"), wwp=("wwp", "sum"))
        per_unit = (target - current) * sums.w / sums.wwp
        factor = work.w.to_numpy() * phi * work.g.map(per_unit).to_numpy()
        bench = est + factor
    out = frame.copy()
    out["benchmarked"] = bench
    out["benchmark_adjustment"] = factor
    return out
