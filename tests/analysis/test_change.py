"""Change between rounds and DiD: checked on simulated surveys with a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.change import change
from analysis.change import did
from analysis.errors import DomainEmpty
from analysis.errors import VariableInvalid
from analysis.survey import Design

TRUE_DID = 0.5
TRUE_TREND = 0.3


def simulate(rng, *, communes=40, per_commune=10, effect=TRUE_DID):
    """Two rounds revisiting the same communes (PSUs) in 4 districts (strata).

    Commune effects persist across rounds, so the rounds are correlated; the reached
    communes start higher (selection on level, which DiD removes) and gain ``effect``
    beyond the common trend.
    """
    g = np.repeat(np.arange(communes), per_commune)
    reached = (np.arange(communes) % 2)[g]
    level = rng.normal(0, 1, communes)[g]
    frames = []
    for r, label in enumerate((2017, 2018)):
        x = rng.normal(0, 1, g.size)
        y = (
            1
            + level
            + TRUE_TREND * r
            + 0.5 * reached
            + effect * r * reached
            + 0.8 * x
            + rng.normal(0, 1, g.size)
        )
        frames.append(
            pd.DataFrame(
                {
                    "y": y,
                    "x": x,
                    "round": label,
                    "commune": g,
                    "district": g % 4,
                    "reached": reached,
                    "w": rng.uniform(1, 3, g.size),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


DESIGN = {"weight": "w", "strata": "district", "psu": "commune"}


def test_did_recovers_known_effect_with_plausible_coverage():
    rng = np.random.default_rng(20170730)
    estimates, covered, trend_covered = [], 0, 0
    reps = 200
    for _ in range(reps):
        frame = simulate(rng)
        row = did(
            frame, y="y", round="round", treated="reached", pre=2017, post=2018, **DESIGN
        ).effect.iloc[0]
        estimates.append(row.estimate)
        covered += row.ci_low <= TRUE_DID <= row.ci_high
        ch = change(frame, y="y", round="round", a=2017, b=2018, by="reached", **DESIGN)
        ctrl = ch.set_index("reached").loc[0]
        trend_covered += ctrl.ci_low <= TRUE_TREND <= ctrl.ci_high
    estimates = np.asarray(estimates)
    # unbiased within Monte Carlo error, CI coverage near the nominal 95 %
    assert abs(estimates.mean() - TRUE_DID) < 4 * estimates.std() / np.sqrt(reps)
    assert 0.90 <= covered / reps <= 0.99
    assert 0.90 <= trend_covered / reps <= 0.99


def test_did_equals_contrast_of_the_four_cell_means():
    frame = simulate(np.random.default_rng(1))
    res = did(frame, y="y", round="round", treated="reached", pre=2017, post=2018, **DESIGN)
    cells = res.cells.set_index(["treated", "post"]).estimate
    contrast = (cells[1, 1] - cells[1, 0]) - (cells[0, 1] - cells[0, 0])
    row = res.effect.iloc[0]
    assert row.estimate == pytest.approx(contrast, rel=1e-10)
    # same SE as the linearised contrast of the four domain means (svyby + svycontrast)
    design = Design(frame, **DESIGN)
    y = frame.y.to_numpy()
    z = []
    for t in (0, 1):
        for r in (2017, 2018):
            mask = ((frame.reached == t) & (frame["round"] == r)).to_numpy()
            z.append(design._domain_mean(np.where(mask, y, np.nan), None)[3][:, 0])
    zc = (z[3] - z[2]) - (z[1] - z[0])
    se = np.sqrt(design.structure.total_cov(zc)[0, 0])
    assert row.se == pytest.approx(se, rel=1e-8)
    assert row.df == 40 - 4 + 1 - 4


def test_did_adjusted_balance_and_caveats():
    frame = simulate(np.random.default_rng(2))
    frame["sex"] = np.where(np.arange(len(frame)) % 3 == 0, "f", "m")
    res = did(
        frame,
        y="y",
        round="round",
        treated="reached",
        pre=2017,
        post=2018,
        covariates=["x", "sex"],
        **DESIGN,
    )
    assert list(res.effect.model) == ["unadjusted", "adjusted"]
    assert "x" in set(res.terms["adjusted"].term)
    # covariate adjustment removes residual noise from x: smaller SE
    assert res.effect.se.iloc[1] < res.effect.se.iloc[0]
    assert list(res.balance.variable) == ["y", "x", "sex=f", "sex=m"]
    # reached communes were simulated 0.5 higher at baseline; balance must show it
    assert res.balance.set_index("variable").loc["y", "difference"] > 0
    assert any("parallel" in c for c in res.caveats)


def test_change_uses_between_round_covariance():
    frame = simulate(np.random.default_rng(3))
    row = change(frame, y="y", round="round", a=2017, b=2018, **DESIGN).iloc[0]
    # commune effects persist: the difference is much more precise than independent rounds
    assert row.se < 0.8 * np.hypot(row.se_a, row.se_b)
    assert row.estimate == pytest.approx(row.estimate_b - row.estimate_a)


def test_change_and_did_errors():
    frame = simulate(np.random.default_rng(4))
    with pytest.raises(DomainEmpty):
        change(frame, y="y", round="round", a=2016, b=2018, **DESIGN)
    with pytest.raises(VariableInvalid):
        did(
            frame.assign(reached=2),
            y="y",
            round="round",
            treated="reached",
            pre=2017,
            post=2018,
            **DESIGN,
        )
