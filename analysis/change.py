"""Change between survey rounds and difference-in-differences of outreach.

Both functions pool the rounds in one design, so that when the same communes (PSUs) are
revisited the between-round covariance enters the variance; with independent samples
per round, pass strata that differ by round (e.g. ``district x round``) and PSU labels
that differ by round.

Caveats, returned with every DiD result: two rounds cannot test parallel trends (the
identifying assumption); outreach is not randomised, so communes reached may differ
from the others in ways that also drive change; look at the baseline balance table and
the covariate-adjusted estimate, and read a DiD as "change in reached communes beyond
the change elsewhere", not a proven causal effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

import numpy as np
import pandas as pd
from scipy import stats

from analysis._taylor import numeric
from analysis._taylor import require_columns
from analysis.errors import DomainEmpty
from analysis.errors import VariableInvalid
from analysis.survey import STAT_COLUMNS
from analysis.survey import Design

CAVEATS = (
    "Two rounds cannot test the parallel-trends assumption; it is assumed, not shown.",
    "Outreach was not randomised: reached and not-reached communes may differ in ways "
    "that also drive change; compare baseline balance and the covariate-adjusted estimate.",
    "Standard errors are design-based (Taylor linearisation) and clustered by PSU "
    "(commune); with few communes the t reference has few degrees of freedom.",
    "Self-reported knowledge may respond to the survey itself (testing effects) and to "
    "social desirability, more so where outreach was visible.",
)


def _t_ci(est, se, df, level):
    q = stats.t.ppf(0.5 + level / 2, df) if df > 0 else np.nan
    return est - q * se, est + q * se


def _round_mask(frame, round, value):
    mask = (frame[round] == value).to_numpy()
    if not mask.any():
        raise DomainEmpty(f"no rows with {round} == {value!r}", round=str(value))
    return mask


def change(
    frame,
    *,
    y,
    round,
    a,
    b,
    weight,
    strata=None,
    psu=None,
    fpc=None,
    by=None,
    lonely_psu="error",
    level=0.95,
    df="domain",
    second_stage=False,
):
    """Change in the mean of ``y`` from round ``a`` to round ``b``, per domain.

    Parameters
    ----------
    frame : pandas.DataFrame
        Respondents of all rounds (rows of other rounds are kept out of the domain,
        not dropped).
    y, round : str
        Outcome column and round column.
    a, b : object
        Values of ``round`` for the earlier and later round; the estimate is b - a.
    weight, strata, psu, fpc, lonely_psu, df, second_stage
        Design of the pooled frame, as in :class:`analysis.survey.Design`; ``df="domain"`` (the
        default): the PSUs holding the domain's rows in either round minus their strata.
    by : str or list of str, optional
        Domain columns (e.g. target group, district).
    level : float
        Confidence level (t with the design's df).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, the standard columns (``estimate`` = change, ``se`` including
        the between-round covariance, ..., ``deff`` NaN, ``n`` and ``n_weighted`` over
        both rounds), then ``estimate_a``, ``se_a``, ``estimate_b``, ``se_b``.
    """
    require_columns(frame, [y, round])
    design = Design(frame, weight=weight, strata=strata, psu=psu, fpc=fpc, lonely_psu=lonely_psu, df=df,
                    second_stage=second_stage)
    values = numeric(design.frame, y)
    domains = design._domains(by)
    parts = []
    for value in (a, b):
        mask = _round_mask(design.frame, round, value)
        parts.append(design._domain_mean(np.where(mask, values, np.nan), by, domains))
    (keys, mem_a, m_a, z_a, nw_a), (_, mem_b, m_b, z_b, nw_b) = parts
    k = len(keys)
    cov = design.structure.total_cov(np.hstack([z_a, z_b]))
    var_a, var_b = np.diag(cov)[:k], np.diag(cov)[k:]
    cross = np.diag(cov[:k, k:])
    var = var_a + var_b - 2 * cross
    out = design._tidy(
        keys,
        m_b - m_a,
        var,
        mem_a.sum(axis=0) + mem_b.sum(axis=0),
        nw_a + nw_b,
        np.full(k, np.nan),
        level,
        member=((mem_a + mem_b) > 0).astype("float64"),
        z=z_b - z_a,
    )
    out["estimate_a"], out["se_a"] = m_a, np.sqrt(var_a)
    out["estimate_b"], out["se_b"] = m_b, np.sqrt(var_b)
    return out


@dataclass
class DidResult:
    """Difference-in-differences of outreach, with its diagnostics.

    Attributes
    ----------
    effect : pandas.DataFrame
        One row per model (``model`` = "unadjusted", and "adjusted" when covariates are
        given) with the standard columns for the ``post:treated`` coefficient.
    terms : dict[str, pandas.DataFrame]
        Full regression tables by model.
    cells : pandas.DataFrame
        The four design-based means (treated x round) the DiD contrasts.
    balance : pandas.DataFrame
        Baseline (pre-round) means of the outcome and covariates in reached and not-reached
        communes, their difference with design-based SE, and the standardised difference.
    caveats : tuple of str
    """

    effect: pd.DataFrame
    terms: dict
    cells: pd.DataFrame
    balance: pd.DataFrame
    caveats: tuple = field(default=CAVEATS)


def _indicator(frame, column):
    values = numeric(frame, column)
    seen = np.unique(values[~np.isnan(values)])
    if not np.isin(seen, (0.0, 1.0)).all() or len(seen) < 2:
        raise VariableInvalid(
            f"{column!r} must be a 0/1 or boolean column with both values present",
            column=column,
        )
    return values


def did(
    frame,
    *,
    y,
    round,
    treated,
    pre,
    post,
    covariates=(),
    weight,
    strata=None,
    psu,
    fpc=None,
    lonely_psu="error",
    level=0.95,
    df="domain",
    second_stage=False,
):
    """Difference-in-differences of communes reached vs. not reached by outreach.

    Fits the design-based regression ``y ~ post + treated + post:treated [+ covariates]``
    (R: ``svyglm``) on the rows of rounds ``pre`` and ``post``, other rows kept as
    out-of-domain. Errors are clustered by ``psu`` (the commune) through the design.
    The unadjusted coefficient equals the contrast of the four cell means (``cells``).

    Parameters
    ----------
    frame : pandas.DataFrame
    y : str
        Outcome (e.g. knowledge score or 0/1 "knows >= 3 risks").
    round, pre, post : str, object, object
        Round column and its baseline and follow-up values.
    treated : str
        0/1 column: respondent's commune reached by outreach between the rounds.
    covariates : sequence of str
        Respondent covariates for the adjusted model; non-numeric ones enter as categories.
    weight, strata, psu, fpc, lonely_psu, df, second_stage
        Design of the pooled frame (see :class:`analysis.survey.Design`). ``df="domain"`` (the
        default): the regression's residual df count the PSUs holding rows of ``pre`` and ``post``
        (R's ``svyglm`` on the subset design), not the whole pooled frame's.
    level : float

    Returns
    -------
    DidResult
    """
    covariates = list(covariates)
    require_columns(frame, [y, round, treated, *covariates])
    design = Design(frame, weight=weight, strata=strata, psu=psu, fpc=fpc, lonely_psu=lonely_psu, df=df,
                    second_stage=second_stage)
    f = design.frame
    is_pre = _round_mask(f, round, pre)
    is_post = _round_mask(f, round, post)
    tr = _indicator(f, treated)
    # safe names: analysts' columns may not be valid formula identifiers
    work = pd.DataFrame(
        {
            "_y": numeric(f, y),
            "_post": np.where(is_post, 1.0, np.where(is_pre, 0.0, np.nan)),
            "_treated": tr,
        }
    )
    terms_cov = []
    for i, c in enumerate(covariates):
        name = f"_x{i}"
        work[name] = f[c].to_numpy()
        numeric_ok = pd.api.types.is_numeric_dtype(f[c]) or pd.api.types.is_bool_dtype(f[c])
        terms_cov.append(name if numeric_ok else f"C({name})")
    inner = design._with_frame(work)
    models = {"unadjusted": "_y ~ _post * _treated"}
    if covariates:
        models["adjusted"] = "_y ~ _post * _treated + " + " + ".join(terms_cov)
    rename = {"_post": "post", "_treated": "treated", "_post:_treated": "post:treated"}
    for i, c in enumerate(covariates):
        rename[f"_x{i}"] = c
    tables, rows = {}, []
    for model, formula in models.items():
        table = inner.regression(formula, level=level)

        def label(term):
            for old, new in sorted(rename.items(), key=lambda kv: -len(kv[0])):
                term = term.replace(old, new)
            return term

        table["term"] = table["term"].map(label)
        tables[model] = table
        row = table[table.term == "post:treated"].drop(columns="term")
        rows.append(row.assign(model=model)[["model", *STAT_COLUMNS]])
    effect = pd.concat(rows, ignore_index=True)
    cells = _cells(design, work, level)
    balance = _balance(design, f, [y, *covariates], tr, is_pre, level)
    return DidResult(effect=effect, terms=tables, cells=cells, balance=balance)


def _cells(design, work, level):
    """Design-based means of the four treated x round cells."""
    cell = np.where(np.isnan(work["_post"]), np.nan, work["_treated"] * 2 + work["_post"])
    out = design._with_frame(work.assign(_cell=cell)).mean("_y", by="_cell", level=level)
    code = out.pop("_cell").to_numpy().astype("int64")
    out.insert(0, "treated", code // 2)
    out.insert(1, "post", code % 2)
    return out


def _balance(design, f, columns, tr, is_pre, level):
    """Baseline means by treatment and their design-based difference.

    Numeric columns are compared as means; each level of a categorical column as the
    proportion of respondents at that level.
    """
    rows = []
    for column in columns:
        values = f[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            rows.append(_balance_row(design, column, numeric(f, column), tr, is_pre, level))
            continue
        for lev in sorted(values.dropna().unique(), key=str):
            x = np.where(values.isna(), np.nan, (values == lev).astype("float64"))
            rows.append(_balance_row(design, f"{column}={lev}", x, tr, is_pre, level))
    return pd.DataFrame(rows)


def _balance_row(design, name, x, tr, is_pre, level):
    z, means, variances = [], [], []
    for mask in (is_pre & (tr == 0), is_pre & (tr == 1)):
        _, member, m, zz, nw = design._domain_mean(np.where(mask, x, np.nan), None)
        z.append(zz[:, 0])
        means.append(m[0])
        wm = design.w * member[:, 0]
        variances.append(np.sum(wm * (np.nan_to_num(x) - m[0]) ** 2) / nw[0])
    cov = design.structure.total_cov(np.column_stack(z))
    diff = means[1] - means[0]
    se = float(np.sqrt(max(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], 0.0)))
    low, high = _t_ci(diff, se, design.df, level)
    pooled = np.sqrt((variances[0] + variances[1]) / 2)
    return {
        "variable": name,
        "mean_not_reached": means[0],
        "mean_reached": means[1],
        "difference": diff,
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "std_difference": diff / pooled if pooled > 0 else np.nan,
    }
