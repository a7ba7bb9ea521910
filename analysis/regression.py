"""Design-based GLMs (R: ``svyglm``) with Taylor-linearised sandwich variance.

Point estimates solve the weighted estimating equations sum_i w_i x_i (y_i - mu_i) = 0
(pseudo-likelihood). The variance is ``A^-1 B A^-1`` where A is the weighted information
matrix and B is the design covariance (see ``Structure.total_cov``) of the totals of the
scores ``w_i x_i (y_i - mu_i)``; this is exactly R's ``svy.varcoef``.

Residual degrees of freedom follow R's ``svyglm``: design df + 1 - number of coefficients;
t(df) quantiles are used for the CIs. The design's df rule applies (``Design(df=...)``): with
``"domain"`` the df counts the PSUs holding rows used by the model (R's ``svyglm`` on a subset
design), with ``"satterthwaite"`` each coefficient's Satterthwaite df of its influence scores.
``deff`` follows R's ``svyglm(deff=TRUE)``: design
variance over the model-based variance of an *unweighted* GLM of the same formula
(R's ``tests/defftest.R``); it says how far the naive analysis is off, not SRS efficiency.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import ModelInvalid

FAMILIES = ("gaussian", "binomial")


def _matrices(design, formula):
    """Response and model matrix over all design rows (NaN rows get weight zero)."""
    from formulaic import model_matrix

    try:
        mm = model_matrix(formula, design.frame)
    except Exception as exc:  # formulaic raises many types; all mean "bad formula"
        raise ModelInvalid(
            f"cannot build model matrix for {formula!r}: {exc}", formula=formula
        ) from exc
    if not hasattr(mm, "lhs"):
        raise ModelInvalid(f"formula {formula!r} has no response (use 'y ~ x')", formula=formula)
    lhs, rhs = mm.lhs, mm.rhs
    if lhs.shape[1] != 1:
        raise ModelInvalid("formula must have exactly one response column", formula=formula)
    used = np.zeros(len(design.frame), dtype=bool)
    used[rhs.index.to_numpy()] = True
    n, p = len(design.frame), rhs.shape[1]
    x = np.zeros((n, p))
    x[used] = rhs.to_numpy(dtype="float64")
    y = np.zeros(n)
    y[used] = lhs.iloc[:, 0].to_numpy(dtype="float64")
    return y, x, used, list(rhs.columns)


def _fit_glm(y, x, w, family, *, max_iter=50, tol=1e-10):
    """Weighted IRLS; returns coefficients, fitted means and working weights."""
    if family == "gaussian":
        xtw = x.T * w
        try:
            beta = np.linalg.solve(xtw @ x, xtw @ y)
        except np.linalg.LinAlgError as exc:
            raise ModelInvalid("model matrix is singular (collinear terms?)") from exc
        return beta, x @ beta, np.ones_like(y)
    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        eta = x @ beta
        mu = 1 / (1 + np.exp(-eta))
        v = np.clip(mu * (1 - mu), 1e-12, None)
        xtw = x.T * (w * v)
        try:
            step = np.linalg.solve(xtw @ x, x.T @ (w * (y - mu)))
        except np.linalg.LinAlgError as exc:
            raise ModelInvalid("model matrix is singular (collinear terms?)") from exc
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            mu = 1 / (1 + np.exp(-(x @ beta)))
            return beta, mu, mu * (1 - mu)
    raise ModelInvalid("logistic regression did not converge (separation?)")


def _naive_cov(y, x, family):
    """Model-based covariance of an unweighted GLM (R's reference for svyglm deff)."""
    n, p = x.shape
    beta, mu, v = _fit_glm(y, x, np.ones(n), family)
    resid = y - mu
    if family == "gaussian":
        dispersion = resid @ resid / (n - p)
    else:  # quasibinomial: Pearson dispersion
        dispersion = np.sum(resid**2 / np.clip(v, 1e-12, None)) / (n - p)
    return dispersion * np.linalg.inv((x.T * v) @ x)


def fit(design, formula, *, family="gaussian", level=0.95):
    """Fit a design-based GLM; return one tidy row per term.

    Parameters
    ----------
    design : analysis.survey.Design
    formula : str
        Wilkinson formula (formulaic syntax), e.g. ``"api00 ~ ell + meals"`` or
        ``"y ~ post * treated + C(district)"``. Rows with a missing value in any model
        variable are outside the estimation domain (zero scores), not dropped from
        the design.
    family : {"gaussian", "binomial"}
        ``"binomial"`` is logistic regression (R: ``quasibinomial``); y in [0, 1].
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        Columns ``term``, ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``df``, ``deff``,
        ``cv``, ``n``, ``n_weighted``; ``.attrs["vcov"]`` holds the covariance matrix
        (list of rows, in the order of ``term``; see :func:`vcov`).
    """
    if family not in FAMILIES:
        raise ModelInvalid(f"family must be one of {FAMILIES}, got {family!r}", family=family)
    y, x, used, terms = _matrices(design, formula)
    if family == "binomial" and ((y[used] < 0) | (y[used] > 1)).any():
        raise ModelInvalid("binomial family needs a response in [0, 1]")
    w = np.where(used, design.w, 0.0)
    n_used = int(used.sum())
    if n_used <= x.shape[1]:
        raise ModelInvalid(f"{n_used} usable rows for {x.shape[1]} coefficients")
    beta, mu, v = _fit_glm(y, x, w, family)
    try:
        a_inv = np.linalg.inv((x.T * (w * v)) @ x)
    except np.linalg.LinAlgError as exc:
        raise ModelInvalid("information matrix is singular") from exc
    scores = x * (w * (y - mu))[:, None]
    vcov = a_inv @ design.structure.total_cov(scores) @ a_inv
    se = np.sqrt(np.maximum(np.diag(vcov), 0.0))
    # R: degf of the (subset) design + 1 - p; with df="domain" only PSUs holding used rows count;
    # with "satterthwaite[-corrected|-pooled]" each coefficient's own (its influence scores' variance
    # components)
    member = used[:, None].astype("float64")
    if design.df_rule.startswith("satterthwaite"):
        df = design.degrees_of_freedom(np.repeat(member, len(beta), axis=1), scores @ a_inv) + 1 - len(beta)
    else:
        df = np.full(len(beta), int(design.degrees_of_freedom(member)[0]) + 1 - len(beta))
    with np.errstate(invalid="ignore"):
        q = np.where(df > 0, stats.t.ppf(0.5 + level / 2, np.maximum(df, 1)), np.nan)
    naive = _naive_cov(y[used], x[used], family)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(beta != 0, se / np.abs(beta), np.nan)
        deff = np.diag(vcov) / np.diag(naive)
    out = pd.DataFrame(
        {
            "term": terms,
            "estimate": beta,
            "se": se,
            "ci_low": beta - q * se,
            "ci_high": beta + q * se,
            "df": df.astype("int64"),
            "deff": deff,
            "cv": cv,
            "n": np.full(len(beta), n_used, dtype="int64"),
            "n_weighted": np.full(len(beta), w.sum()),
        }
    )
    # plain lists: pandas compares attrs with == when combining frames
    out.attrs["vcov"] = vcov.tolist()
    out.attrs["family"] = family
    out.attrs["formula"] = formula
    return out


def vcov(table):
    """Covariance matrix of a regression table from :func:`fit`, as a DataFrame by term."""
    terms = list(table["term"])
    return pd.DataFrame(np.asarray(table.attrs["vcov"]), index=terms, columns=terms)
