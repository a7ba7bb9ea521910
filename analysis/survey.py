"""Design-based estimation: means, totals, ratios, proportions and regression.

Conventions (checked against R ``survey`` in ``tests/analysis/test_survey.py``):

* Variance: Taylor linearisation; first-stage PSUs with replacement within strata,
  multiplied by ``1 - f_h`` when ``fpc`` is given (R: population count of PSUs per stratum
  if > 1, else the sampling fraction). PSUs are nested in strata. With ``second_stage=True``
  the within-PSU variance times ``f_h`` is added (R's multistage estimator, see ``_taylor``).
* Degrees of freedom: ``df="design"`` (the default, R's ``degf`` of the full design, Stata's
  ``subpop``): #PSU - #strata of the *full* design (without PSUs: n - #strata), also for
  domains; ``df="domain"`` (R's ``svyby(..., svyciprop)``, which calls ``degf`` on the subset
  design; the reports' choice): the PSUs holding the domain's members minus their strata.
  CIs use t(df) quantiles (R's ``confint`` defaults to the normal).
* Domains (``by``) are estimated from the full design with zero scores outside the
  domain; the frame is never subset. Missing values of ``y`` are treated the same way.
* ``deff``: R's ``deff=TRUE`` convention, design variance over the variance under simple
  random sampling *without* replacement of the same (domain) size n,
  ``s2/n * (1 - n/N_hat)``. DEFT is ``sqrt(deff)``. NaN for regression terms.
* Lonely PSUs (a stratum with one sampled PSU and f_h < 1): ``lonely_psu="error"``
  (default, code ``too-few-psus``), ``"adjust"`` (R's ``survey.lonely.psu="adjust"``:
  centre at the mean of all PSU totals) or ``"certainty"`` (contributes zero variance).
* Proportions: logit-scale CI with t(df) quantiles (R's ``svyciprop`` default); when the
  estimate is exactly 0 or 1 the logit is infinite, so a Clopper–Pearson bound with the
  unweighted domain n is used for the open side (documented in ``proportion``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis._taylor import Calibrated
from analysis._taylor import Structure
from analysis._taylor import numeric
from analysis._taylor import require_columns
from analysis.errors import DesignInvalid
from analysis.errors import DomainEmpty
from analysis.errors import VariableInvalid


@dataclass(frozen=True)
class PsuCounts:
    """First-stage finite population correction looked up from a column rather than stored in one.

    ``counts`` maps each value of ``column`` (constant within a stratum, e.g. the district of a
    ``district × round`` stratum) to the population number of PSUs (> 1) or the sampling fraction
    (<= 1), as an ``fpc`` column would hold it. Reports pass the census's communes per district this
    way, so their frames need no extra column.
    """

    column: str
    counts: Mapping

    def values(self, frame: pd.DataFrame) -> np.ndarray:
        """The fpc of each row (raises DesignInvalid for a value of ``column`` without a count)."""
        require_columns(frame, [self.column])
        counts = pd.Series(dict(self.counts), dtype="float64")
        values = frame[self.column].map(counts).astype("float64").to_numpy(na_value=np.nan)
        if np.isnan(values).any():
            unknown = sorted(map(str, pd.unique(frame.loc[np.isnan(values), self.column])))[:10]
            raise DesignInvalid(f"no population PSU count for {self.column} {unknown}")
        return values


@dataclass(frozen=True, eq=False)
class PpsSizes:
    """A first stage drawn with probability proportional to size, without replacement (Hartley–Rao).

    ``sizes`` maps each value of ``column`` (constant within a stratum: the district of a
    ``district × round`` stratum) to ``{unit: size}`` for *every* PSU of its population (every
    commune of the census, sampled or not), and ``unit`` names the column holding each row's PSU
    key in those maps (the commune, which a ``commune × round`` PSU column may not hold as such).
    The variance is Hartley & Rao's (1962) approximation for randomised systematic PPS, which
    is how communes are drawn, in Yates–Grundy form: ``(1/(n-1)) sum_{i<j} (1 - pi_i - pi_j +
    sum_U pi^2/n) (t_i - t_j)^2`` per stratum, for one stage the formula of R's ``svydesign(ids =
    ~psu, strata = ~stratum, fpc = ~pi, pps = HR(psum), variance = "YG")`` (R's HR supports no
    second stage; with ``second_stage`` each PSU's within term is weighted by its own pi_i, as f_h
    is for an fpc: the between term computed from estimated PSU totals already holds 1 - pi_i of
    each PSU's within variance).
    """

    column: str
    unit: str
    sizes: Mapping
    #: Columns of a recorded design (``analysis.next_round.design_columns``): a row with all three
    #: sizes uses them instead of ``sizes``, and ``pi_commune`` = 1 marks a certainty unit.
    recorded: tuple = ("mos", "mos_total", "mos_sumsq", "pi_commune")

    def _recorded(self, frame: pd.DataFrame) -> tuple[np.ndarray, list]:
        """Rows with a recorded design, and the recorded size columns (empty when the frame has none)."""
        columns = [c for c in self.recorded[:3] if c in frame.columns]
        if len(columns) < 3:
            return np.zeros(len(frame), dtype=bool), []
        values = [frame[c].astype("float64").to_numpy(na_value=np.nan) for c in columns]
        return np.logical_and.reduce([np.isfinite(v) for v in values]), values

    def values(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: its PSU's size, its stratum's total size and sum of squared sizes (recorded first)."""
        require_columns(frame, [self.column, self.unit])
        keys = frame[self.column].astype(str).to_numpy()
        units = frame[self.unit].astype(str).to_numpy()
        own, recorded = self._recorded(frame)
        table = {str(k): {str(u): float(v) for u, v in m.items()} for k, m in self.sizes.items()}
        pairs = pd.DataFrame({"k": keys[~own], "u": units[~own]}).drop_duplicates()
        missing = [f"{k}/{u}" for k, u in pairs.itertuples(index=False) if u not in table.get(k, {})]
        if missing:
            raise DesignInvalid(f"no PPS size for {self.column}/{self.unit} {sorted(missing)[:10]}")
        totals = {k: (sum(m.values()), sum(v * v for v in m.values())) for k, m in table.items()}
        # one lookup per distinct (stratum, unit) pair, spread to the rows by integer codes
        key_codes, key_values = pd.factorize(keys)
        unit_codes, unit_values = pd.factorize(units)
        pair = key_codes.astype(np.int64) * max(len(unit_values), 1) + unit_codes
        distinct, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
        looked = np.full((len(distinct), 3), np.nan)
        for j, row in enumerate(first):
            k, u = keys[row], units[row]
            if u in table.get(k, {}):  # a recorded row may be outside ``sizes``: it needs no lookup
                looked[j] = (table[k][u], *totals[k])
        size, total, sumsq = (looked[inverse.reshape(-1), c].copy() for c in range(3))
        if own.any():
            size[own], total[own], sumsq[own] = (v[own] for v in recorded)
        return size, total, sumsq

    def certain(self, frame: pd.DataFrame) -> np.ndarray:
        """Per row: whether its PSU is a recorded certainty unit (``pi_commune`` = 1)."""
        own, _ = self._recorded(frame)
        if self.recorded[3] not in frame.columns:
            return np.zeros(len(frame), dtype=bool)
        pi = frame[self.recorded[3]].astype("float64").to_numpy(na_value=np.nan)
        return own & (pi >= 1.0)


#: Rules for the degrees of freedom of an interval (see :class:`Design`).
DF_RULES = ("design", "domain", "satterthwaite", "satterthwaite-corrected", "satterthwaite-pooled")

STAT_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "df", "deff", "cv", "n", "n_weighted"]


def _safe_ratio(num, den):
    """num / den, NaN where den is zero or undefined (e.g. deff of a constant)."""
    num, den = np.asarray(num, dtype="float64"), np.asarray(den, dtype="float64")
    ok = np.isfinite(den) & (den > 0)
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=ok)


class Design:
    """A complex survey design over a data frame (R: ``svydesign``).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per respondent.
    weight : str
        Column of sampling weights (non-negative, complete).
    strata : str, optional
        Column of strata (e.g. district). None: one stratum.
    psu : str, optional
        Column of primary sampling units (e.g. commune), nested in strata.
        None: each row is its own PSU.
    fpc : str, PsuCounts or PpsSizes, optional
        Column of first-stage finite population corrections, constant within stratum:
        population number of PSUs in the stratum (values > 1) or sampling fraction (<= 1);
        or a :class:`PsuCounts` that looks them up from another column; or a :class:`PpsSizes`
        for a first stage drawn with probability proportional to size (Hartley–Rao variance).
    lonely_psu : {"error", "adjust", "certainty"}
        Policy for strata with a single sampled PSU (see module docstring).
    df : {"design", "domain", "satterthwaite", "satterthwaite-corrected"}
        Degrees of freedom of the intervals: ``"design"`` (R's ``degf`` of the whole design,
        Stata's ``subpop``: #PSU − #strata, for every domain); ``"domain"`` (R's ``svyby`` +
        ``svyciprop``, Korn & Graubard: the PSUs holding members of the domain minus their
        strata; for a domain that is one stratum of 4 PSUs, 3); ``"satterthwaite"``: the
        Welch–Satterthwaite df of the domain's variance components (``Structure.effective_df``),
        rounded down; with one stage it is at most the domain's df. ``"satterthwaite-corrected"``:
        the same with the plug-in formula's downward bias removed (``effective_df(corrected=True)``).
        ``"satterthwaite-pooled"``: the same with each stratum's between-PSU term taken, in the df
        formula only, as its within terms times the pooled between/within ratio
        (``effective_df(pooled=True)``). Ferry's reports use ``"satterthwaite-pooled"`` with
        ``second_stage`` and the census's PPS first
        stage (:func:`analysis.levels.report_design`); ``docs/analysis.md`` gives the measured coverage.
    calibrated : bool
        The weights were scaled so each stratum's add up to a known total (post-stratified, e.g.
        :func:`analysis.weights.design_weights` with ``calibrate=True``): the variances use the
        scores' residuals within strata (:class:`analysis._taylor.Calibrated`).
    second_stage : bool
        With an ``fpc``: add the within-PSU (second-stage, people drawn with replacement) variance
        times the first-stage sampling fraction, as R's multistage estimator does
        (``ids = ~psu + person, fpc = ~N + M`` with M large). Without it the fpc also shrinks the
        second stage's share of the variance (R's one-stage ``ids = ~psu, fpc = ~N``).
    Raises
    ------
    ColumnMissing, DesignInvalid, TooFewPsus
    """

    def __init__(self, frame, *, weight, strata=None, psu=None, fpc=None, lonely_psu="error", df="design",
                 second_stage=False, calibrated=False):
        if not isinstance(frame, pd.DataFrame):
            raise DesignInvalid("frame must be a pandas DataFrame")
        if df not in DF_RULES:
            raise DesignInvalid(f"df must be one of {DF_RULES}, got {df!r}")
        self.df_rule = df
        pps = fpc if isinstance(fpc, PpsSizes) else None
        fpc_column = fpc if isinstance(fpc, str) else None
        require_columns(frame, [c for c in (weight, strata, psu, fpc_column) if c is not None])
        if len(frame) == 0:
            raise DesignInvalid("frame has no rows")
        w = numeric(frame, weight)
        if np.isnan(w).any() or (w < 0).any() or not np.isfinite(w).all():
            raise DesignInvalid(f"weight column {weight!r} must be finite, >= 0 and complete")
        self.frame = frame.reset_index(drop=True)
        self.weight, self.strata, self.psu, self.fpc = weight, strata, psu, fpc
        self.w = w
        fpc_values = fpc.values(self.frame) if isinstance(fpc, PsuCounts) else (None if pps else fpc)
        self.structure = Structure(
            self.frame, strata=strata, psu=psu, fpc=fpc_values, lonely_psu=lonely_psu,
            second_stage=second_stage,
            pps=(*pps.values(self.frame), pps.certain(self.frame)) if pps else None,
        )
        if calibrated:
            if strata is None:
                raise DesignInvalid("calibrated weights need the strata they were calibrated to")
            post = pd.factorize(self.frame[strata], sort=True)[0]
            self.structure = Calibrated(self.structure, post, w)
        self.df = self.structure.df

    def __repr__(self):
        s = self.structure
        return (
            f"Design(n={len(self.frame)}, strata={s.n_strata}, psu={s.n_psu_total}, "
            f"df={self.df}, weight={self.weight!r})"
        )

    # ----------------------------------------------------------------- helpers
    def _with_frame(self, frame):
        """Same design over a frame with the same rows in the same order (derived columns)."""
        if len(frame) != len(self.frame):
            raise DesignInvalid("derived frame must have the design's rows")
        other = copy.copy(self)
        other.frame = frame.reset_index(drop=True)
        other.__dict__.pop("_domain_cache", None)
        return other

    def _domains(self, by):
        """Group keys (DataFrame) and integer domain code per row (-1: in no domain).

        Cached per ``by``: the frame of a design does not change (``_with_frame`` makes a new one),
        and reports ask for the same domains of many indicators.
        """
        if by is None:
            return pd.DataFrame(index=[0]), np.zeros(len(self.frame), dtype=np.intp)
        cols = [by] if isinstance(by, str) else list(by)
        cache = self.__dict__.setdefault("_domain_cache", {})
        key = tuple(cols)
        if key in cache:
            keys, codes = cache[key]
            return keys.copy(), codes
        require_columns(self.frame, cols)
        grouped = self.frame.groupby(cols, sort=True, dropna=True, observed=True)
        codes = grouped.ngroup().to_numpy()
        codes = np.where(np.isnan(codes.astype("float64")), -1, codes).astype(np.intp)
        keys = grouped.size().index.to_frame(index=False)
        cache[key] = (keys, codes)
        return keys.copy(), codes

    def _domain_df(self, member):
        """Per domain: PSUs holding a member minus their strata (Korn & Graubard's domain df)."""
        s = self.structure
        rows, groups = np.nonzero(member)
        groups = groups.astype(np.int64)
        psus = np.unique(groups * s.n_psu_total + s.psu[rows])
        strata = np.unique(groups * s.n_strata + s.stratum[rows])
        k = member.shape[1]
        return (np.bincount(psus // s.n_psu_total, minlength=k)
                - np.bincount(strata // s.n_strata, minlength=k))

    def degrees_of_freedom(self, member=None, z=None):
        """Degrees of freedom per domain under the design's rule (``member``: n x k membership, ``z``:
        the n x k scores whose totals' variance the interval uses)."""
        k = 1 if member is None else member.shape[1]
        if self.df_rule == "design" or member is None:
            return np.full(k, self.df, dtype="int64")
        domain = self._domain_df(member)
        if self.df_rule == "domain" or z is None:
            return domain
        effective = self.structure.effective_df(z, corrected=self.df_rule == "satterthwaite-corrected",
                                                pooled=self.df_rule == "satterthwaite-pooled")
        # whole df only (an integer column; rounding down is the conservative side); a domain
        # whose variance is zero keeps its PSUs' count
        whole = np.maximum(np.floor(effective + 1e-9), 1)
        return np.where(np.isfinite(effective), whole, domain).astype("int64")

    def _tidy(self, keys, est, var, n, nw, deff, level, df=None, member=None, z=None):
        if df is None:
            df = self.degrees_of_freedom(member, z)
        df = np.broadcast_to(np.asarray(df, dtype="int64"), np.shape(est))
        se = np.sqrt(np.maximum(var, 0.0))
        with np.errstate(invalid="ignore"):
            q = np.where(df > 0, stats.t.ppf(0.5 + level / 2, np.maximum(df, 1)), np.nan)
        out = keys.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(est != 0, se / np.abs(est), np.nan)
        cols = {
            "estimate": est,
            "se": se,
            "ci_low": est - q * se,
            "ci_high": est + q * se,
            "df": np.array(df, dtype="int64"),
            "deff": deff,
            "cv": cv,
            "n": np.asarray(n, dtype="int64"),
            "n_weighted": nw,
        }
        for name, values in cols.items():
            out[name] = values
        return out.reset_index(drop=True)

    def _masks(self, codes, n_groups, present):
        """n x G indicator matrix of domain membership among rows where ``present``."""
        member = np.zeros((len(codes), n_groups))
        rows = np.flatnonzero((codes >= 0) & present)
        member[rows, codes[rows]] = 1.0
        return member

    def _srs_var_of_mean(self, y, member, means, codes=None):
        """Variance of a domain mean under SRS without replacement (R ``deff=TRUE``).

        With ``codes`` (the domain code of each member row, -1 elsewhere) the sums run over the
        members only (``bincount``): the same additions in the same order as the n x G sums,
        whose other terms are zeros.
        """
        if codes is not None and member.shape[1] > 1:
            rows = np.flatnonzero(codes >= 0)
            g, k = codes[rows], member.shape[1]
            w = self.w[rows]
            n = np.bincount(g, minlength=k).astype("float64")
            nw = np.bincount(g, weights=w, minlength=k)
            resid = np.nan_to_num(y[rows]) - means[g]
            with np.errstate(divide="ignore", invalid="ignore"):
                s2 = np.bincount(g, weights=w * resid**2, minlength=k) / nw * n / (n - 1)
                return s2 / n * (1 - n / nw)
        wm = self.w[:, None] * member
        n = member.sum(axis=0)
        nw = wm.sum(axis=0)
        resid = np.where(member > 0, np.nan_to_num(y)[:, None] - means, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = (wm * resid**2).sum(axis=0) / nw * n / (n - 1)
            return s2 / n * (1 - n / nw)

    def _domain_mean(self, y, by, domains=None):
        """Domain means of ``y`` and their linearised scores (n x G).

        ``domains`` (keys, codes) may be passed to share one set of groups across calls
        (e.g. the same groups in two survey rounds).
        """
        keys, member, means, z, nw, _ = self._domain_scores(y, by, domains)
        return keys, member, means, z, nw

    def _domain_scores(self, y, by, domains=None):
        """``_domain_mean`` plus the domain code of each row counted (-1: not in the estimate).

        With several domains the sums run over each domain's rows only (``bincount``), the same
        additions in the same order as the n x G column sums, whose other terms are zeros.
        """
        keys, codes = self._domains(by) if domains is None else domains
        present = ~np.isnan(y)
        k = len(keys)
        member = self._masks(codes, k, present)
        counted = np.where(present, codes, -1)
        yz = np.nan_to_num(y)
        if k > 1:
            rows = np.flatnonzero(counted >= 0)
            g, w = counted[rows], self.w[rows]
            nw = np.bincount(g, weights=w, minlength=k)
        else:
            wm = self.w[:, None] * member
            nw = wm.sum(axis=0)
        empty = nw <= 0
        if empty.any():
            raise DomainEmpty(
                f"domain(s) with no positive weight: {keys[empty].to_dict('records')[:5]}",
                domains=keys[empty].to_dict("records"),
            )
        if k > 1:
            means = np.bincount(g, weights=w * yz[rows], minlength=k) / nw
            # linearised score of a ratio-of-totals mean: w (y - ybar) / N_hat in the domain
            z = np.zeros((len(codes), k))
            z[rows, g] = w * (yz[rows] - means[g]) / nw[g]
        else:
            means = (wm * yz[:, None]).sum(axis=0) / nw
            z = wm * (yz[:, None] - means) / nw
        return keys, member, means, z, nw, counted

    def _column(self, y):
        require_columns(self.frame, [y])
        return numeric(self.frame, y)

    # ----------------------------------------------------------------- estimators
    def mean(self, y, by=None, *, level=0.95):
        """Weighted mean of ``y`` per domain (R: ``svymean``/``svyby``) as a tidy frame."""
        values = self._column(y)
        keys, member, means, z, nw, counted = self._domain_scores(values, by)
        var = self.structure.total_var(z)
        deff = _safe_ratio(var, self._srs_var_of_mean(values, member, means, counted))
        return self._tidy(keys, means, var, member.sum(axis=0), nw, deff, level, member=member, z=z)

    def total(self, y, by=None, *, level=0.95):
        """Estimated population total of ``y`` per domain (R: ``svytotal``)."""
        values = self._column(y)
        keys, member, means, _, nw = self._domain_mean(values, by)
        wm = self.w[:, None] * member
        z = wm * np.nan_to_num(values)[:, None]
        totals = z.sum(axis=0)
        var = np.diag(self.structure.total_cov(z))
        deff = _safe_ratio(var, self._srs_var_of_mean(values, member, means) * nw**2)
        return self._tidy(keys, totals, var, member.sum(axis=0), nw, deff, level, member=member, z=z)

    def ratio(self, numerator, denominator, by=None, *, level=0.95):
        """Ratio of two totals, sum(w y) / sum(w x), per domain (R: ``svyratio``).

        ``deff`` compares with SRS without replacement of the residual y - R x
        (scaled by the domain mean of x).
        """
        y = self._column(numerator)
        x = self._column(denominator)
        keys, codes = self._domains(by)
        present = ~np.isnan(y) & ~np.isnan(x)
        member = self._masks(codes, len(keys), present)
        wm = self.w[:, None] * member
        nw = wm.sum(axis=0)
        ty = (wm * np.nan_to_num(y)[:, None]).sum(axis=0)
        tx = (wm * np.nan_to_num(x)[:, None]).sum(axis=0)
        if (tx == 0).any():
            raise DomainEmpty("denominator total is zero in some domain")
        r = ty / tx
        resid = np.nan_to_num(y)[:, None] - r * np.nan_to_num(x)[:, None]
        z = wm * resid / tx
        var = np.diag(self.structure.total_cov(z))
        # SRS variance of a ratio: S2 of residuals / n * (1 - n/N) / xbar^2
        n = member.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = (wm * resid**2).sum(axis=0) / nw * n / (n - 1)
            srs = s2 / n * (1 - n / nw) / (tx / nw) ** 2
        return self._tidy(keys, r, var, n, nw, _safe_ratio(var, srs), level, member=member, z=z)

    def proportion(self, y, by=None, *, level=0.95):
        """Proportion of a binary (0/1 or boolean) ``y`` per domain with a logit CI.

        The CI is R's ``svyciprop(method="logit")``: ``expit(logit(p) +/- t * se/(p(1-p)))``
        with t(df). Bounds always lie in [0, 1]. When p is exactly 0 (1) the upper
        (lower) bound is the exact Clopper–Pearson bound for 0 (n) successes out of the
        unweighted domain n, at the same level; a design-effect correction is not
        possible there because the estimated variance is zero.

        A text or categorical ``y`` gives one row per category (a ``level`` column after
        the ``by`` columns): the proportion of the domain in that category, missing
        answers excluded from the denominator.
        """
        require_columns(self.frame, [y])
        column = self.frame[y]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            return self._proportion_levels(y, by, level)
        values = self._column(y)
        seen = np.unique(values[~np.isnan(values)])
        if not np.isin(seen, (0.0, 1.0)).all():
            raise VariableInvalid(
                f"proportion needs a 0/1 or boolean column; {y!r} has {seen[:5].tolist()}",
                column=y,
            )
        out = self.mean(y, by, level=level)
        p = out["estimate"].to_numpy()
        se = out["se"].to_numpy()
        n = out["n"].to_numpy().astype("float64")
        df = out["df"].to_numpy()
        with np.errstate(invalid="ignore"):
            q = np.where(df > 0, stats.t.ppf(0.5 + level / 2, np.maximum(df, 1)), np.nan)
        alpha = 1 - level
        inner = (p > 0) & (p < 1)
        low = np.empty_like(p)
        high = np.empty_like(p)
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = np.log(p / (1 - p))
            half = q * se / (p * (1 - p))
        low[inner] = 1 / (1 + np.exp(-(eta[inner] - half[inner])))
        high[inner] = 1 / (1 + np.exp(-(eta[inner] + half[inner])))
        zero, one = p <= 0, p >= 1
        low[zero], high[zero] = 0.0, 1 - (alpha / 2) ** (1 / n[zero])
        low[one], high[one] = (alpha / 2) ** (1 / n[one]), 1.0
        # logit and back is not exact: with se near 0 the bounds can land an ulp past the estimate.
        out["ci_low"], out["ci_high"] = np.minimum(low, p), np.maximum(high, p)
        return out

    def _proportion_levels(self, y, by, level):
        column = self.frame[y]
        levels = sorted(column.dropna().unique(), key=str)
        if not levels:
            raise VariableInvalid(f"column {y!r} has no answers", column=y)
        parts = []
        for value in levels:
            indicator = np.where(column.isna(), np.nan, (column == value).astype("float64"))
            derived = self._with_frame(self.frame.assign(_indicator=indicator))
            part = derived.proportion("_indicator", by, level=level)
            n_by = 0 if by is None else (1 if isinstance(by, str) else len(by))
            part.insert(n_by, "level", value)
            parts.append(part)
        out = pd.concat(parts, ignore_index=True)
        order = [] if by is None else ([by] if isinstance(by, str) else list(by))
        return out.sort_values([*order, "level"], kind="stable").reset_index(drop=True)

    def regression(self, formula, *, family="gaussian", level=0.95):
        """Design-based linear (or logistic) regression (R: ``svyglm``), one row per term.

        See :func:`analysis.regression.fit` for details.
        """
        from analysis.regression import fit

        return fit(self, formula, family=family, level=level)
