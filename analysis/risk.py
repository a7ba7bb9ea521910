"""Risk model: who is likely to be at risk (or to know little), projected onto the census.

Purpose and limits
------------------
The model exists to *project* how many at-risk people live in each commune from the census
structure (age × urban/rural, sex assumed half), where the survey has few or no interviews.
It is never used to score individuals: no function here returns a person's predicted
probability (``predict_proba`` exists because the scikit-learn contract requires it and the
projection calls it on census cells, not on respondents). Outputs are aggregates: fold AUCs,
a calibration table by decile, commune totals.

Model
-----
``Pipeline(ColumnTransformer(one-hot for categorical features [missing → "missing"],
cubic B-splines for numeric ones such as age), LogisticRegression(C))``, fitted with the
survey weights as ``sample_weight`` (so the fit targets the population, not the sample;
the weights are rescaled to mean 1, which leaves the estimates unchanged but keeps the
penalty's strength comparable across rounds).

Targets: ``at_risk`` (``risk_index >= 1/3``, :mod:`analysis.scores`) or low knowledge
(:func:`low_knowledge`: not aware of at least X warning signs, default X = 3).

Validation (:func:`cross_validated_report`): group k-fold by commune (PSU), so a commune is
never in both the training and the test part (respondents of a commune resemble each other;
splitting them would flatter the AUC). Weighted AUC per fold and pooled out-of-fold; a
weighted calibration table by decile of predicted probability; the calibration slope and
intercept (weighted logistic regression of the outcome on the out-of-fold logit; 1 and 0
when calibrated).

Projection (:func:`project_at_risk`): the census tables have age bands by urban/rural but no
sex split, so each cell is taken as half women, half men, and single years within a band as
equally common. Expected at-risk people in commune i =
sum over cells (age a, sex s, area u) of population_i(a, s, u) · p̂(a, s, u). The projection
carries the model's error, not shown here: read it as a planning size, not a count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.base import ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.preprocessing import SplineTransformer
from threadpoolctl import threadpool_limits

from analysis._taylor import require_columns
from analysis.errors import FeaturesUnavailable
from analysis.errors import ModelInvalid
from analysis.errors import NotFitted
from analysis.errors import VariableInvalid
from analysis.population import band_ages
from analysis.population import census_cells

__all__ = ["RiskModel", "CVReport", "cross_validated_report", "project_at_risk", "low_knowledge",
           "CENSUS_FEATURES"]

#: Features the census can supply for a projection.
CENSUS_FEATURES = ("age", "sex", "area")


def low_knowledge(frame, *, column="aware_signs_3") -> pd.Series:
    """Boolean (nullable): not aware of at least X warning signs (the headline's complement)."""
    require_columns(frame, [column])
    values = frame[column].astype("boolean")
    return ~values


def _binary(y) -> np.ndarray:
    values = pd.Series(y)
    if values.isna().any():
        raise VariableInvalid("the outcome has missing values; drop those respondents first")
    out = values.astype("float64").to_numpy()
    if not np.isin(out, (0.0, 1.0)).all():
        raise VariableInvalid("the outcome must be binary (0/1 or boolean)")
    if len(np.unique(out)) < 2:
        raise ModelInvalid("the outcome has a single value; nothing to model")
    return out.astype(int)


def _one_blas_thread():
    """A context with one BLAS thread.

    The model's products are matrix-vector and memory-bound: more threads do not help them, and
    on the 2-core server their spinning slowed everything else (the 5-fold CV of 250,000
    respondents took 28 s instead of 8 s).
    """
    return threadpool_limits(limits=1, user_api="blas")


def _weights(sample_weight, n) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype="float64")
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise VariableInvalid("sample_weight must be finite, >= 0, one per row, not all zero")
    return w / w.mean()


class RiskModel(ClassifierMixin, BaseEstimator):
    """Weighted logistic model of a binary outcome on profile features (scikit-learn estimator).

    Parameters
    ----------
    categorical : tuple of str
        Categorical feature columns (one-hot encoded; unseen categories ignored).
    numeric : tuple of str
        Numeric feature columns (cubic B-splines with ``n_knots`` knots).
    C : float
        Inverse strength of the L2 penalty of the logistic regression.
    n_knots : int
        Knots of the spline basis of each numeric feature.
    max_iter : int
        Iterations of the solver.
    """

    def __init__(self, categorical=("sex", "area", "marital", "education", "occupation"),
                 numeric=("age",), C=1.0, n_knots=4, max_iter=1000):
        self.categorical = categorical
        self.numeric = numeric
        self.C = C
        self.n_knots = n_knots
        self.max_iter = max_iter

    @property
    def features(self) -> list[str]:
        """The feature columns, categorical then numeric."""
        return [*self.categorical, *self.numeric]

    def _matrix(self, X) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise VariableInvalid("X must be a pandas DataFrame with the feature columns")
        require_columns(X, self.features)
        out = pd.DataFrame(index=X.index)
        for c in self.categorical:
            out[c] = X[c].astype("object").where(X[c].notna(), "missing").astype(str).to_numpy()
        for c in self.numeric:
            values = pd.to_numeric(X[c], errors="coerce").astype("float64")
            if values.isna().any():
                raise VariableInvalid(f"numeric feature {c!r} has missing values")
            out[c] = values
        return out

    def fit(self, X, y, sample_weight=None):
        """Fit on a respondent frame; ``sample_weight`` the survey weights. Returns self."""
        if not self.features:
            raise ModelInvalid("the model needs at least one feature")
        matrix = self._matrix(X)
        target = _binary(y)
        if len(target) != len(matrix):
            raise VariableInvalid("X and y have different lengths")
        w = _weights(sample_weight, len(matrix))
        transformers = []
        if self.categorical:
            encoder = OneHotEncoder(handle_unknown="ignore")
            transformers.append(("categorical", encoder, list(self.categorical)))
        if self.numeric:
            transformers.append(("numeric", SplineTransformer(n_knots=self.n_knots, degree=3,
                                                              extrapolation="constant"), list(self.numeric)))
        pipeline = Pipeline([
            ("features", ColumnTransformer(transformers)),
            ("logistic", LogisticRegression(C=self.C, max_iter=self.max_iter)),
        ])
        with _one_blas_thread():
            pipeline.fit(matrix, target, logistic__sample_weight=w)
        self.pipeline_ = pipeline
        self.classes_ = pipeline.classes_
        self.n_features_in_ = len(self.features)
        self.feature_names_in_ = np.asarray(self.features, dtype=object)
        return self

    def _fitted(self):
        if not hasattr(self, "pipeline_"):
            raise NotFitted("RiskModel is not fitted; call fit first")
        return self.pipeline_

    def predict_proba(self, X):
        """Class probabilities (for projections onto census cells; never report them per person)."""
        with _one_blas_thread():
            return self._fitted().predict_proba(self._matrix(X))

    def predict(self, X):
        """Most probable class."""
        with _one_blas_thread():
            return self._fitted().predict(self._matrix(X))


@dataclass
class CVReport:
    """Aggregates of a grouped cross-validation: no individual predictions."""

    folds: pd.DataFrame
    auc: float
    auc_mean: float
    auc_sd: float
    calibration: pd.DataFrame
    calibration_slope: float
    calibration_intercept: float
    brier: float


def _weighted_logit_fit(x, y, w, iterations=50):
    """Intercept and slope of a weighted logistic regression of y on x (Newton–Raphson)."""
    design = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-design @ beta))
        grad = design.T @ (w * (y - p))
        hess = design.T @ (design * (w * p * (1 - p))[:, None])
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return beta


def cross_validated_report(model, X, y, *, sample_weight=None, groups, n_splits=5, random_state=0,
                           bins=10) -> CVReport:
    """Weighted, commune-grouped cross-validation of a :class:`RiskModel` (see module docstring).

    Parameters
    ----------
    model : RiskModel
        Unfitted or fitted; a fresh clone is fitted per fold.
    X, y, sample_weight
        Respondent frame, binary outcome, survey weights.
    groups : str or array-like
        PSU of each row (a column name of ``X`` or values), e.g. ``"psu"``.
    n_splits, random_state
        Group k-fold with shuffled communes.
    bins : int
        Quantile bins of predicted probability for the calibration table (10 = deciles).
    """
    from sklearn.base import clone

    target = _binary(y)
    w = _weights(sample_weight, len(target))
    g = np.asarray(X[groups] if isinstance(groups, str) else groups)
    if len(np.unique(g)) < n_splits:
        raise ModelInvalid(f"{len(np.unique(g))} communes cannot make {n_splits} folds")
    oof = np.full(len(target), np.nan)
    rows = []
    splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    for fold, (train, test) in enumerate(splitter.split(X, target, g)):
        fitted = clone(model).fit(X.iloc[train], target[train], sample_weight=w[train])
        oof[test] = fitted.predict_proba(X.iloc[test])[:, 1]
        auc = (roc_auc_score(target[test], oof[test], sample_weight=w[test])
               if len(np.unique(target[test])) == 2 else np.nan)
        rows.append({"fold": fold, "n_train": len(train), "n_test": len(test),
                     "psu_test": len(np.unique(g[test])), "auc": auc})
    folds = pd.DataFrame(rows)
    edges = np.unique(np.quantile(oof, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, oof, side="right") - 1, 0, len(edges) - 2)
    calib = (pd.DataFrame({"bin": which + 1, "w": w, "p": oof * w, "y": target * w, "one": 1})
             .groupby("bin").agg(n=("one", "sum"), weight=("w", "sum"), p=("p", "sum"), y=("y", "sum")))
    calib["predicted"] = calib["p"] / calib["weight"]
    calib["observed"] = calib["y"] / calib["weight"]
    calibration = calib.reset_index()[["bin", "n", "weight", "predicted", "observed"]]
    clipped = np.clip(oof, 1e-6, 1 - 1e-6)
    intercept, slope = _weighted_logit_fit(np.log(clipped / (1 - clipped)), target, w)
    return CVReport(
        folds=folds,
        auc=float(roc_auc_score(target, oof, sample_weight=w)),
        auc_mean=float(folds["auc"].mean()),
        auc_sd=float(folds["auc"].std(ddof=1)),
        calibration=calibration,
        calibration_slope=float(slope),
        calibration_intercept=float(intercept),
        brier=float(np.average((oof - target) ** 2, weights=w)),
    )


def _cell_ages(cells: pd.DataFrame, share_female: float) -> pd.DataFrame:
    parts = []
    for band, group in cells.groupby("age_band", sort=False):
        ages = list(band_ages(band))
        for age in ages:
            for sex, share in (("female", share_female), ("male", 1 - share_female)):
                parts.append(group.assign(age=age, sex=sex, people=group["population"] * share / len(ages)))
    return pd.concat(parts, ignore_index=True)


def project_at_risk(model, census=None, *, share_female=0.5, sex=None, ages=None, level="commune"):
    """Expected number of people with the model's outcome per commune (or district).

    Parameters
    ----------
    model : RiskModel
        Fitted on census features only (a subset of ``age, sex, area``).
    census : pandas.DataFrame, optional
        ``analysis.population.census_cells()`` (the default) or a frame of the same shape.
    share_female : float
        Share of women in every census cell (the tables have no sex split).
    sex : {"female", "male"}, optional
        Restrict to one sex (e.g. women of marriage age with ``ages=(18, 34)``).
    ages : (int, int), optional
        Inclusive age range of the target population.
    level : {"commune", "district"}
        Aggregation level.

    Returns
    -------
    pandas.DataFrame
        ``district_code`` (and ``commune_key``), ``population`` (of the target population),
        ``expected`` (people), ``rate`` (expected / population).
    """
    fitted = model._fitted() if isinstance(model, RiskModel) else None
    if fitted is None:
        raise ModelInvalid("project_at_risk needs a fitted RiskModel")
    extra = sorted(set(model.features) - set(CENSUS_FEATURES))
    if extra:
        raise FeaturesUnavailable(
            f"the census cannot supply {extra}; fit the projection model on {list(CENSUS_FEATURES)} only",
            features=extra)
    if level not in ("commune", "district"):
        raise VariableInvalid(f"level must be 'commune' or 'district', got {level!r}")
    if not 0 <= share_female <= 1:
        raise VariableInvalid("share_female must lie in [0, 1]")
    cells = census_cells() if census is None else census
    require_columns(cells, ["district_code", "commune_key", "age_band", "area", "population"])
    grid = _cell_ages(cells, share_female)
    if sex is not None:
        grid = grid[grid["sex"] == sex]
    if ages is not None:
        grid = grid[(grid["age"] >= ages[0]) & (grid["age"] <= ages[1])]
    if grid.empty:
        raise VariableInvalid("no census cell matches the target population")
    profiles = grid[list(CENSUS_FEATURES)].drop_duplicates().reset_index(drop=True)
    profiles["p"] = model.predict_proba(profiles)[:, 1]
    grid = grid.merge(profiles, on=list(CENSUS_FEATURES), how="left")
    grid["expected"] = grid["people"] * grid["p"]
    keys = ["district_code", "commune_key"] if level == "commune" else ["district_code"]
    out = grid.groupby(keys, as_index=False).agg(population=("people", "sum"), expected=("expected", "sum"))
    out["rate"] = out["expected"] / out["population"]
    return out
