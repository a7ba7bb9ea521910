"""Risk model: sklearn contract, grouped weighted CV on a known signal, census projection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from analysis import population
from analysis import tidy
from analysis import weights
from analysis.errors import FeaturesUnavailable
from analysis.errors import ModelInvalid
from analysis.errors import NotFitted
from analysis.errors import VariableInvalid
from analysis.risk import RiskModel
from analysis.risk import cross_validated_report
from analysis.risk import low_knowledge
from analysis.risk import project_at_risk
from forms import library

from .simulate import simulate

CENSUS_ONLY = {"categorical": ("sex", "area"), "numeric": ("age",)}


def people(seed=0, n=3000, communes=60, logit=None):
    rng = np.random.default_rng(seed)
    commune = rng.integers(0, communes, n)
    frame = pd.DataFrame({
        "psu": commune.astype(str),
        "area": np.where(commune % 2 == 0, "rural", "urban"),
        "sex": rng.choice(["female", "male"], n),
        "age": rng.integers(15, 80, n).astype(float),
        "education": rng.choice(["primary", "upper_secondary", "university"], n),
        "marital": rng.choice(["single", "married"], n),
        "occupation": rng.choice(["farming", "trade"], n),
        "weight": rng.lognormal(0, 0.5, n),
    })
    if logit is None:
        def logit(f):
            return (-1.5 + 1.2 * (f["area"] == "rural") + 0.8 * (f["sex"] == "female")
                    - 0.05 * (f["age"] - 30) + 0.6 * (f["education"] == "primary"))
    frame["p_true"] = 1 / (1 + np.exp(-logit(frame)))
    frame["y"] = rng.random(n) < frame["p_true"]
    return frame


def test_sklearn_contract():
    model = RiskModel(C=0.5)
    assert model.get_params()["C"] == 0.5
    assert clone(model).get_params() == model.get_params()
    assert not hasattr(model, "pipeline_")
    with pytest.raises(NotFitted) as err:
        model.predict_proba(people(n=10))
    assert err.value.code == "not-fitted"
    frame = people(n=400)
    assert model.fit(frame, frame["y"], sample_weight=frame["weight"]) is model
    assert list(model.classes_) == [0, 1] and model.n_features_in_ == 6
    with pytest.raises(VariableInvalid):
        RiskModel().fit(frame, frame["age"])
    with pytest.raises(ModelInvalid):
        RiskModel().fit(frame, np.zeros(len(frame)))


def test_cross_validation_finds_a_known_signal_and_is_calibrated():
    frame = people(1)
    report = cross_validated_report(RiskModel(), frame, frame["y"], sample_weight=frame["weight"],
                                    groups="psu", n_splits=5)
    oracle = roc_auc_score(frame["y"], frame["p_true"], sample_weight=frame["weight"])
    assert report.auc > 0.7
    assert abs(report.auc - oracle) < 0.03, (report.auc, oracle)
    assert 0.8 < report.calibration_slope < 1.2
    assert abs(report.calibration_intercept) < 0.2
    assert len(report.folds) == 5 and report.folds["psu_test"].sum() == 60
    calib = report.calibration
    assert len(calib) == 10 and calib["n"].sum() == len(frame)
    assert np.abs(calib["predicted"] - calib["observed"]).max() < 0.1
    # a model without signal is caught: AUC near one half
    frame["noise"] = np.random.default_rng(9).random(len(frame)) < 0.3
    null = cross_validated_report(RiskModel(), frame, frame["noise"], sample_weight=frame["weight"],
                                  groups="psu")
    assert abs(null.auc - 0.5) < 0.05


def test_projection_recovers_known_counts_from_the_census():
    frame = people(2, logit=lambda f: np.where(f["area"] == "rural", np.log(0.4 / 0.6), np.log(0.1 / 0.9)))
    model = RiskModel(**CENSUS_ONLY).fit(frame, frame["y"], sample_weight=frame["weight"])
    projected = project_at_risk(model)
    places = population.communes().set_index("commune_key")
    cells = population.census_cells()
    by_area = cells.groupby(["commune_key", "area"])["population"].sum().unstack(fill_value=0.0)
    truth = 0.4 * by_area.get("rural", 0) + 0.1 * by_area.get("urban", 0)
    got = projected.set_index("commune_key")["expected"]
    assert len(projected) == 85
    np.testing.assert_allclose(projected.set_index("commune_key")["population"],
                               places.loc[got.index, "adult_population"], rtol=1e-9)
    np.testing.assert_allclose(got.sum(), truth.sum(), rtol=0.06)
    np.testing.assert_allclose(got, truth.loc[got.index], rtol=0.12)
    women = project_at_risk(model, sex="female", ages=(18, 34), level="district")
    assert len(women) == 9
    adults = places.groupby("district_code")["adult_population"].sum()
    assert (women.set_index("district_code")["population"] < 0.25 * adults).all()


def test_projection_refuses_features_the_census_lacks():
    frame = people(3, n=500)
    model = RiskModel().fit(frame, frame["y"])
    with pytest.raises(FeaturesUnavailable) as err:
        project_at_risk(model)
    assert err.value.code == "features-unavailable"


def test_on_the_tidy_frame_with_survey_weights():
    subs, _ = simulate(5, n_per_district=4, m=20, risk=lambda p: 0.6 if p["age"] < 30 else 0.15)
    frame = weights.design_weights(tidy.respondents(subs, library.load("awareness")))
    report = cross_validated_report(RiskModel(**CENSUS_ONLY), frame, frame["at_risk"].astype(bool),
                                    sample_weight=frame["weight"], groups="psu")
    assert report.auc > 0.6
    assert set(report.calibration.columns) == {"bin", "n", "weight", "predicted", "observed"}
    assert low_knowledge(frame).sum() == (~frame["aware_signs_3"].astype(bool)).sum()
