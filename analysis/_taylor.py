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

    def __init__(self, frame, *, strata, psu, fpc, lonely_psu, second_stage=False, pps=None):
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
        certain = None
        if pps is not None and len(pps) == 4:
            pps, certain = tuple(pps[:3]), np.asarray(pps[3], dtype=bool)
            if certain.any():
                # certainty units (a planned round's forced or large communes, pi = 1) form their own
                # stratum: no first-stage variance, and the stratum's drawn PSUs keep their own n_h
                self.stratum = np.unique(self.stratum.astype(np.int64) * 2 + certain,
                                         return_inverse=True)[1].reshape(-1).astype(np.intp)
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
        self.psu_pi = None
        if pps is not None:
            if fpc is not None:
                raise DesignInvalid("give either fpc or pps, not both")
            self._pps(*pps, certain=certain)
        # the first stage's share of each PSU: f_h, or its own pi_i for a PPS first stage
        psu_fraction = self.fraction[self.psu_stratum] if self.psu_pi is None else self.psu_pi
        self.lonely_psu = lonely_psu
        self.second_stage = bool(second_stage)
        if self.second_stage:
            size = np.bincount(self.psu, minlength=self.n_psu_total).astype("float64")
            # f_h (pi_i) * m_i / (m_i - 1) per row; a PSU of one respondent has no within-PSU estimate (0)
            within = np.where(size > 1, size / np.maximum(size - 1, 1), 0.0) * psu_fraction
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

    def _pps(self, size, total, sumsq, certain=None):
        """Inclusion probabilities of a PPS-without-replacement first stage (Hartley–Rao).

        Per row: the PSU's size M_i, its stratum's total size M_h and sum of squared sizes. With n_h
        PSUs drawn, ``pi_i = n_h M_i / M_h`` (capped at 1) and ``p2_h = sum_U pi^2 / n_h =
        n_h sum M^2 / M_h^2``, the population term of Hartley & Rao's approximation.
        """
        arrays = [np.asarray(a, dtype="float64") for a in (size, total, sumsq)]
        if any(np.isnan(a).any() or (a <= 0).any() for a in arrays):
            raise DesignInvalid("PPS sizes must be positive and complete")
        size, total, sumsq = arrays
        psu_size = np.zeros(self.n_psu_total)
        psu_size[self.psu] = size
        stratum_total, stratum_sumsq = np.ones(self.n_strata), np.ones(self.n_strata)
        stratum_total[self.stratum], stratum_sumsq[self.stratum] = total, sumsq
        n_h = self.n_psu.astype("float64")
        self.psu_pi = np.minimum(n_h[self.psu_stratum] * psu_size / stratum_total[self.psu_stratum], 1.0)
        self.psu_certain = np.zeros(self.n_psu_total, dtype=bool)
        if certain is not None:
            self.psu_certain[self.psu] = certain
            self.psu_pi = np.where(self.psu_certain, 1.0, self.psu_pi)
        self.p2 = n_h * stratum_sumsq / stratum_total**2
        # the mean pi of a stratum's sampled PSUs stands in for f_h where one number is needed
        # (lonely PSUs: a stratum whose only PSU was certain has pi = 1)
        self.fraction = self._mean_pi()

    def _mean_pi(self):
        """Mean inclusion probability of each stratum's sampled PSUs (PPS first stage)."""
        total = np.bincount(self.psu_stratum, weights=self.psu_pi, minlength=self.n_strata)
        return total / np.maximum(self.n_psu, 1)

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

    def effective_df(self, z: np.ndarray, corrected: bool = False, pooled: bool = False) -> np.ndarray:
        """Satterthwaite degrees of freedom of the variance of each column's total.

        The variance is a sum of independent components: each stratum's between-PSU term
        (n_h - 1 df) and, with ``second_stage``, each PSU's within term times f_h (m_i - 1 df).
        Welch–Satterthwaite: ``(sum c)^2 / sum(c^2 / df_c)``. With one stratum and no second stage
        it is n_h - 1; where the stable within-PSU terms dominate it approaches their many df.
        Components of a domain's zero scores are zero and count for nothing.

        ``corrected``: the plug-in formula above squares *estimated* components, and a component
        with d df has ``E[c_hat^2] = c^2 (d + 2) / d``: with 3 df per district that inflates the
        denominator by 5/3 and pulls the df of a sum of several districts far down (a city total
        of nine districts × 3 df got t(5) to t(33)). Estimating numerator and denominator without
        that bias (``c^2/d`` by ``c_hat^2/(d+2)``, ``(sum c)^2`` by ``(sum c_hat)^2 - 2 sum
        c_hat^2/(d+2)``) gives ``(sum c_hat)^2 / sum(c_hat^2 / (d + 2)) - 2``: still exactly d for a
        single component, at least the smallest component's df, and close to the sum of the df when
        the components are alike. (The downward bias of the plug-in df is known: Johnson & Rust
        1992; von Davier, arXiv 2409.14606 and 2602.20912.)

        ``pooled`` (with ``second_stage``): each stratum's between-PSU component is replaced, in this
        formula only, by its within components times the ratio of between to within pooled over every
        stratum and column that has a between term. Why: with 4 PSUs a stratum's between term is
        estimated on 3 df, and where it happens to come out small the plug-in df rises towards the
        many df of the within terms just as the variance falls short, so the interval is narrowest
        exactly when it is most wrong (district cells of a generated season: those given more than 20
        df covered 0.83, those given 4 or fewer 0.996, 0.93 overall). The pooled ratio (a whole
        round's districts) is stable, so a cell's df no longer follows the noise of its own variance.
        """
        pad = 2.0 if corrected else 0.0
        centred, weights = self._centred(z)
        k = centred.shape[1]
        per_psu = centred**2 * weights[:, None]
        between = np.column_stack([
            np.bincount(self.psu_stratum, weights=per_psu[:, j], minlength=self.n_strata) for j in range(k)])
        n_h = self.n_psu.astype("float64")
        # a lonely PSU centred at the grand mean ("adjust") carries one df
        df_between = np.where(n_h > 1, n_h - 1, 1.0)
        if self.second_stage:
            within = self._within_centred(z)
            rows = within**2 * self._within_scale[:, None]
            per = np.column_stack([np.bincount(self.psu, weights=rows[:, j], minlength=self.n_psu_total)
                                   for j in range(k)])
            size = np.bincount(self.psu, minlength=self.n_psu_total).astype("float64")
            if pooled:
                between = self._pooled_between(between, per, weights)
        num = between.sum(axis=0)
        den = (between**2 / (df_between[:, None] + pad)).sum(axis=0)
        if self.second_stage:
            num = num + per.sum(axis=0)
            den = den + (per**2 / (np.maximum(size - 1, 1) + pad)[:, None]).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num**2 / den - pad, np.nan)

    def _pooled_between(self, between, per_psu_within, psu_scale):
        """Between-PSU components as each stratum's within components × the pooled between/within ratio
        (strata whose PSUs carry no first-stage variance, such as certainty units, keep none)."""
        within = np.column_stack([np.bincount(self.psu_stratum, weights=per_psu_within[:, j],
                                              minlength=self.n_strata)
                                  for j in range(per_psu_within.shape[1])])
        drawn = np.bincount(self.psu_stratum, weights=(psu_scale > 0).astype("float64"),
                            minlength=self.n_strata) > 0
        total_within = within[drawn].sum()
        if total_within <= 0:
            return between
        ratio = between[drawn].sum() / total_within
        return np.where(drawn[:, None], within * ratio, between)

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
        if self.psu_pi is not None:
            # Hartley & Rao's estimator, (1/(n-1)) sum_{i<j} (1 - pi_i - pi_j + p2) (t_i - t_j)^2, is
            # diagonal in the centred totals: n/(n-1) sum_i (1 + p2 - P/n - pi_i) (t_i - tbar)^2,
            # P the sum of the sample's pi (with pi = n/N it is the SRS fpc 1 - n/N); a PSU whose
            # factor would be negative (two very large PSUs) counts for nothing
            taken = self._mean_pi()[self.psu_stratum]
            factor = np.maximum(1 + self.p2[self.psu_stratum] - taken - self.psu_pi, 0.0)
            factor = np.where(self.psu_certain, 0.0, factor)  # a certainty unit was not drawn
            scale = np.where(n_h > 1, n_h / np.maximum(n_h - 1, 1), 0.0)[self.psu_stratum] * factor
        else:
            scale = scale[self.psu_stratum]
        if self.lonely.any() and self.lonely_psu == "adjust":
            # R's survey.lonely.psu="adjust": centre a singleton PSU at the mean of all
            # PSU totals instead of its own (undefined) stratum mean
            grand = totals.mean(axis=0)
            single = self.lonely[self.psu_stratum]
            centred[single] = totals[single] - grand
            scale = np.where(single, (1 - self.fraction)[self.psu_stratum], scale)
        # "certainty" (and fpc-certain strata): a singleton contributes nothing
        return centred, scale


class Calibrated:
    """A :class:`Structure` whose weights were scaled to known totals of its strata (post-stratified).

    The variance of an estimator from calibrated weights is that of its linearised scores'
    residuals from their stratum's weighted mean (Deville & Särndal 1992; R's ``postStratify``):
    ``z_j - w_j · sum_h(z) / sum_h(w)``. Where every PSU of a stratum carries the same weight total
    (a self-weighting PPS draw) this changes nothing; where the totals vary (a tilted PPS draw), the
    variance no longer counts the random share of each stratum that calibration removed.
    """

    def __init__(self, structure: Structure, post: np.ndarray, w: np.ndarray):
        self._structure = structure
        self._post = np.asarray(post, dtype=np.intp)
        self._w = np.asarray(w, dtype="float64")
        self._w_sums = np.bincount(self._post, weights=self._w)

    def __getattr__(self, name):
        return getattr(self._structure, name)

    def residuals(self, z: np.ndarray) -> np.ndarray:
        """Scores minus each row's weight times its stratum's score per unit of weight."""
        z = np.asarray(z, dtype="float64")
        flat = z.ndim == 1
        z = z[:, None] if flat else z
        if not z.shape[1]:
            return z
        sums = np.column_stack([np.bincount(self._post, weights=z[:, j], minlength=len(self._w_sums))
                                for j in range(z.shape[1])])
        with np.errstate(divide="ignore", invalid="ignore"):
            per_weight = np.where(self._w_sums[:, None] > 0, sums / self._w_sums[:, None], 0.0)
        out = z - self._w[:, None] * per_weight[self._post]
        return out[:, 0] if flat else out

    def total_cov(self, z: np.ndarray) -> np.ndarray:
        return self._structure.total_cov(self.residuals(z))

    def total_var(self, z: np.ndarray) -> np.ndarray:
        return self._structure.total_var(self.residuals(z))

    def effective_df(self, z: np.ndarray, corrected: bool = False, pooled: bool = False) -> np.ndarray:
        return self._structure.effective_df(self.residuals(z), corrected=corrected, pooled=pooled)
