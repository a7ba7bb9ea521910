"""Design structure and Taylor-linearisation variance (internal).

Every design-based estimator in ``analysis`` is reduced to a matrix of *weighted scores*
``z`` (one row per observation, one column per estimate) such that the estimator is, to
first order, a population total of ``z``. The variance of a total under a stratified,
with-replacement-at-first-stage (optionally fpc-corrected) design is then the classic
between-PSU formula, computed here once for all estimators.

With ``second_stage`` the people within a PSU are a second stage drawn with replacement (in
practice: a small share of the commune's adults), and the variance is R's multistage estimator
(``svydesign(ids = ~psu + person, fpc = ~N_h + M)`` with M large): the first stage's between-PSU
term times ``1 - f_h`` plus ``f_h`` times the within-PSU variance of each PSU's estimated total.
Without an fpc (``f_h = 0``) the second term vanishes and the two conventions agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import ColumnMissing
from analysis.errors import DesignInvalid
from analysis.errors import TooFewPsus

LONELY_PSU_POLICIES = ("error", "adjust", "certainty")


def require_columns(frame: pd.DataFrame, columns) -> None:
    """Raise ColumnMissing naming every requested column absent from ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ColumnMissing(
            f"column(s) not in frame: {', '.join(map(str, missing))}",
            errors=[{"pointer": str(c), "detail": "column missing"} for c in missing],
            columns=missing,
        )


def numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Column as float array (NaN for missing); raise if it is not numeric/boolean."""
    s = frame[column]
    if s.dtype == bool or pd.api.types.is_bool_dtype(s):
        return s.astype("float64").to_numpy()
    if not pd.api.types.is_numeric_dtype(s):
        from analysis.errors import VariableInvalid

        raise VariableInvalid(f"column {column!r} is not numeric", column=column)
    return s.astype("float64").to_numpy(na_value=np.nan)


class Structure:
    """Strata, PSUs and sampling fractions of a design, encoded as integer arrays.

    PSUs are always nested in strata (R's ``nest=TRUE``): PSU labels only need to be
    unique within a stratum, which is how field teams number communes.
    """

    def __init__(self, frame, *, strata, psu, fpc, lonely_psu, second_stage=False):
        if lonely_psu not in LONELY_PSU_POLICIES:
            raise DesignInvalid(
                f"lonely_psu must be one of {LONELY_PSU_POLICIES}, got {lonely_psu!r}",
                lonely_psu=lonely_psu,
            )
        if second_stage and psu is None:
            raise DesignInvalid("second_stage needs a psu column (people are drawn within PSUs)")
        n = len(frame)
        if strata is None:
            self.stratum = np.zeros(n, dtype=np.intp)
        else:
            if frame[strata].isna().any():
                raise DesignInvalid(f"strata column {strata!r} has missing values")
            self.stratum = pd.factorize(frame[strata], sort=True)[0].astype(np.intp)
        if psu is None:
            psu_key = np.arange(n)
        else:
            if frame[psu].isna().any():
                raise DesignInvalid(f"psu column {psu!r} has missing values")
            psu_key = pd.factorize(frame[psu], sort=True)[0]
        # (stratum, psu) pairs numbered in sorted order: one integer per pair sorts the same way
        # (a MultiIndex of the pairs would build a million tuples)
        pairs = self.stratum.astype(np.int64) * (int(psu_key.max()) + 1 if n else 1) + psu_key
        self.psu = np.unique(pairs, return_inverse=True)[1].astype(np.intp)
        self.n_psu_total = int(self.psu.max()) + 1 if n else 0
        # stratum of each PSU
        self.psu_stratum = np.zeros(self.n_psu_total, dtype=np.intp)
        self.psu_stratum[self.psu] = self.stratum
        self.n_strata = int(self.stratum.max()) + 1 if n else 0
        self.n_psu = np.bincount(self.psu_stratum, minlength=self.n_strata)
        self.fraction = self._fractions(frame, fpc)
        self.lonely_psu = lonely_psu
        self.second_stage = bool(second_stage)
        if self.second_stage:
            size = np.bincount(self.psu, minlength=self.n_psu_total).astype("float64")
            # f_h * m_i / (m_i - 1) per row; a PSU of one respondent has no within-PSU estimate (0)
            within = np.where(size > 1, size / np.maximum(size - 1, 1), 0.0) * self.fraction[self.psu_stratum]
            self._within_scale = within[self.psu]
        lonely = (self.n_psu == 1) & (self.fraction < 1)
        if lonely.any() and lonely_psu == "error":
            labels = (
                sorted(pd.unique(frame[strata][np.isin(self.stratum, np.flatnonzero(lonely))]))
                if strata is not None
                else ["(single stratum)"]
            )
            raise TooFewPsus(
                f"{int(lonely.sum())} stratum/strata with a single PSU: {labels[:10]}; "
                "collapse strata or pass lonely_psu='adjust' or 'certainty'",
                strata=[str(s) for s in labels],
            )
        self.lonely = lonely
        self.df = self.n_psu_total - self.n_strata

    def _fractions(self, frame, fpc):
        """First-stage sampling fraction per stratum (0 when no fpc: with replacement).

        ``fpc`` is a column name or an array with one value per row.
        """
        if fpc is None:
            return np.zeros(self.n_strata)
        if isinstance(fpc, str):
            values = frame[fpc].astype("float64").to_numpy(na_value=np.nan)
        else:
            values, fpc = np.asarray(fpc, dtype="float64"), "fpc"
        if np.isnan(values).any() or (values <= 0).any():
            raise DesignInvalid(f"fpc column {fpc!r} must be positive and complete")
        per = pd.Series(values).groupby(self.stratum)
        if (per.nunique() > 1).any():
            raise DesignInvalid(f"fpc column {fpc!r} must be constant within each stratum")
        first = per.first().to_numpy()
        # as in R's survey: values <= 1 are sampling fractions, larger ones population
        # counts of PSUs in the stratum
        if (first <= 1).all():
            return first
        if (first < 1).any():  # 1 is both "fully sampled" and "one PSU": fine either way
            raise DesignInvalid(f"fpc column {fpc!r} mixes fractions (<1) and counts (>1)")
        if (first < self.n_psu).any():
            raise DesignInvalid(f"fpc column {fpc!r}: population PSU count below the sampled count")
        return self.n_psu / first

    def total_cov(self, z: np.ndarray) -> np.ndarray:
        """Covariance matrix of the estimated totals of the columns of ``z``.

        ``z`` holds weighted scores (n x k). Between-PSU variance within strata,
        scaled by n_h/(n_h-1) and (1 - f_h).
        """
        centred, weights = self._centred(z)
        cov = (centred * weights[:, None]).T @ centred
        if self.second_stage:
            within = self._within_centred(z)
            cov = cov + (within * self._within_scale[:, None]).T @ within
        return cov

    def total_var(self, z: np.ndarray) -> np.ndarray:
        """Variances of the estimated totals of the columns of ``z`` (``diag(total_cov(z))``)."""
        centred, weights = self._centred(z)
        var = np.diag((centred * weights[:, None]).T @ centred)  # the product over PSUs is small
        if self.second_stage:
            within = self._within_centred(z)
            var = var + self._within_scale @ (within * within)
        return var

    def effective_df(self, z: np.ndarray) -> np.ndarray:
        """Satterthwaite degrees of freedom of the variance of each column's total.

        The variance is a sum of independent components: each stratum's between-PSU term
        (n_h - 1 df) and, with ``second_stage``, each PSU's within term times f_h (m_i - 1 df).
        Welch–Satterthwaite: ``(sum c)^2 / sum(c^2 / df_c)``. With one stratum and no second stage
        it is n_h - 1; where the stable within-PSU terms dominate it approaches their many df.
        Components of a domain's zero scores are zero and count for nothing.
        """
        centred, weights = self._centred(z)
        k = centred.shape[1]
        per_psu = centred**2 * weights[:, None]
        between = np.column_stack([
            np.bincount(self.psu_stratum, weights=per_psu[:, j], minlength=self.n_strata) for j in range(k)])
        n_h = self.n_psu.astype("float64")
        # a lonely PSU centred at the grand mean ("adjust") carries one df
        df_between = np.where(n_h > 1, n_h - 1, 1.0)
        num = between.sum(axis=0)
        den = (between**2 / df_between[:, None]).sum(axis=0)
        if self.second_stage:
            within = self._within_centred(z)
            rows = within**2 * self._within_scale[:, None]
            per = np.column_stack([np.bincount(self.psu, weights=rows[:, j], minlength=self.n_psu_total)
                                   for j in range(k)])
            size = np.bincount(self.psu, minlength=self.n_psu_total).astype("float64")
            num = num + per.sum(axis=0)
            den = den + (per**2 / np.maximum(size - 1, 1)[:, None]).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num**2 / den, np.nan)

    def _within_centred(self, z):
        """Rows of ``z`` centred at their PSU's mean (the second stage's residuals)."""
        z = np.asarray(z, dtype="float64")
        if z.ndim == 1:
            z = z[:, None]
        size = np.bincount(self.psu, minlength=self.n_psu_total).astype("float64")
        if not z.shape[1]:
            return z
        sums = np.column_stack([np.bincount(self.psu, weights=z[:, j], minlength=self.n_psu_total)
                                for j in range(z.shape[1])])
        return z - (sums / np.maximum(size, 1)[:, None])[self.psu]

    def _centred(self, z):
        """PSU totals of ``z`` centred within strata, and each PSU's variance factor."""
        z = np.asarray(z, dtype="float64")
        if z.ndim == 1:
            z = z[:, None]
        k = z.shape[1]
        # bincount adds in row order, as np.add.at does, at a fraction of its cost
        totals = np.column_stack([np.bincount(self.psu, weights=z[:, j], minlength=self.n_psu_total)
                                  for j in range(k)]) if k else np.zeros((self.n_psu_total, 0))
        sums = np.column_stack([np.bincount(self.psu_stratum, weights=totals[:, j], minlength=self.n_strata)
                                for j in range(k)]) if k else np.zeros((self.n_strata, 0))
        n_h = self.n_psu.astype("float64")
        centred = totals - (sums / n_h[:, None])[self.psu_stratum]
        scale = np.where(n_h > 1, n_h / np.maximum(n_h - 1, 1), 0.0) * (1 - self.fraction)
        if self.lonely.any() and self.lonely_psu == "adjust":
            # R's survey.lonely.psu="adjust": centre a singleton PSU at the mean of all
            # PSU totals instead of its own (undefined) stratum mean
            grand = totals.mean(axis=0)
            single = self.lonely[self.psu_stratum]
            centred[single] = totals[single] - grand
            scale = np.where(self.lonely, 1 - self.fraction, scale)
        # "certainty" (and fpc-certain strata): a singleton contributes nothing
        return centred, scale[self.psu_stratum]
