"""Conventions of analysis.survey that have no published golden number: deff, proportion
CIs at the boundaries, lonely PSUs, input validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from scipy import stats

from analysis.errors import AnalysisError
from analysis.errors import ColumnMissing
from analysis.errors import DesignInvalid
from analysis.errors import DomainEmpty
from analysis.errors import TooFewPsus
from analysis.errors import VariableInvalid
from analysis.survey import STAT_COLUMNS
from analysis.survey import Design


def srs_frame(n=50, big_n=400, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.normal(10, 2, n), "w": big_n / n, "N": float(big_n)})


def test_deff_is_one_for_srs_without_replacement():
    # R deff=TRUE compares with SRS without replacement: an actual SRSWOR gives exactly 1
    frame = srs_frame()
    row = Design(frame, weight="w", fpc="N").mean("y").iloc[0]
    assert row.deff == pytest.approx(1.0, rel=1e-12)
    tot = Design(frame, weight="w", fpc="N").total("y").iloc[0]
    assert tot.deff == pytest.approx(1.0, rel=1e-12)


def test_deff_formula_on_cluster_sample(apiclus1):
    # deff = V_design / (s2/n * (1 - n/N_hat)), s2 the weighted variance with n/(n-1)
    row = Design(apiclus1, weight="pw", psu="dnum", fpc="fpc").mean("api00").iloc[0]
    y, w = apiclus1.api00.to_numpy(float), apiclus1.pw.to_numpy(float)
    n, big_n = len(y), w.sum()
    s2 = np.sum(w * (y - row.estimate) ** 2) / big_n * n / (n - 1)
    assert row.deff == pytest.approx(row.se**2 / (s2 / n * (1 - n / big_n)), rel=1e-12)
    assert row.deff == pytest.approx(9.3459, abs=5e-5)  # R svymean(deff=TRUE) help page


def test_tidy_shape_and_cv(apistrat):
    out = Design(apistrat, weight="pw", strata="stype", fpc="fpc").mean(
        "api00", by=["stype", "sch.wide"]
    )
    assert list(out.columns) == ["stype", "sch.wide", *STAT_COLUMNS]
    assert len(out) == 6
    np.testing.assert_allclose(out.cv, out.se / out.estimate)
    assert out.n.sum() == len(apistrat)


def test_proportion_logit_ci_matches_definition(nhanes2):
    design = Design(nhanes2, weight="finalwgt", strata="stratid", psu="psuid")
    out = design.proportion("highbp", by="race")
    mean = design.mean("highbp", by="race")
    np.testing.assert_allclose(out.estimate, mean.estimate)
    np.testing.assert_allclose(out.se, mean.se)
    p, se = out.estimate.to_numpy(), out.se.to_numpy()
    t = stats.t.ppf(0.975, 31)
    eta = np.log(p / (1 - p))
    np.testing.assert_allclose(out.ci_low, 1 / (1 + np.exp(-(eta - t * se / (p * (1 - p))))))
    np.testing.assert_allclose(out.ci_high, 1 / (1 + np.exp(-(eta + t * se / (p * (1 - p))))))
    assert ((out.ci_low < out.estimate) & (out.estimate < out.ci_high)).all()


def test_proportion_at_zero_and_one():
    frame = pd.DataFrame(
        {
            "y": [0, 0, 0, 0, 1, 1, 1, 1],
            "g": list("aaaabbbb"),
            "w": 1.0,
            "s": [1, 1, 2, 2, 1, 1, 2, 2],
            "c": [1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    out = Design(frame, weight="w", strata="s", psu="c").proportion("y", by="g")
    assert not out[["estimate", "ci_low", "ci_high"]].isna().any().any()
    a, b = out.set_index("g").loc["a"], out.set_index("g").loc["b"]
    assert a.ci_low == 0 and 0 < a.ci_high < 1
    assert b.ci_high == 1 and 0 < b.ci_low < 1
    assert a.ci_high == pytest.approx(1 - 0.025 ** (1 / 4))  # Clopper-Pearson, 0 of 4


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(0.1, 50)), min_size=4, max_size=40))
@example(rows=[(False, 8.0), (True, 1.0), (True, 1.0), (False, 8.0)])  # se 0: found by hypothesis
def test_proportion_bounds_always_in_unit_interval(rows):
    frame = pd.DataFrame(rows, columns=["y", "w"])
    frame["psu"] = np.arange(len(frame)) // 2
    out = Design(frame, weight="w", psu="psu").proportion("y").iloc[0]
    assert 0 <= out.ci_low <= out.estimate <= out.ci_high <= 1


def test_proportion_rejects_non_binary(apistrat):
    with pytest.raises(VariableInvalid) as err:
        Design(apistrat, weight="pw", strata="stype").proportion("api00")
    assert err.value.code == "variable-invalid"


def test_lonely_psu_policies():
    frame = pd.DataFrame(
        {"y": [1.0, 2, 3, 4, 5], "w": 1.0, "s": [1, 1, 2, 2, 3], "c": [1, 2, 3, 4, 5]}
    )
    with pytest.raises(TooFewPsus) as err:
        Design(frame, weight="w", strata="s", psu="c")
    assert err.value.code == "too-few-psus" and err.value.fields["strata"] == ["3"]
    certain = Design(frame, weight="w", strata="s", psu="c", lonely_psu="certainty").total("y")
    adjust = Design(frame, weight="w", strata="s", psu="c", lonely_psu="adjust").total("y")
    # adjust: singleton centred at the mean PSU total (3): adds (5 - 3)^2 = 4
    assert adjust.se.iloc[0] ** 2 == pytest.approx(certain.se.iloc[0] ** 2 + 4)
    assert certain.df.iloc[0] == 5 - 3
    # a stratum fully enumerated by its fpc is not lonely
    frame["N"] = [10, 10, 10, 10, 1]
    Design(frame, weight="w", strata="s", psu="c", fpc="N")


@pytest.mark.parametrize(
    "kwargs, error, code",
    [
        ({"weight": "nope"}, ColumnMissing, "column-missing"),
        ({"weight": "w", "strata": "missing_col"}, ColumnMissing, "column-missing"),
        ({"weight": "neg"}, DesignInvalid, "design-invalid"),
        ({"weight": "w", "fpc": "bad_fpc"}, DesignInvalid, "design-invalid"),
        ({"weight": "w", "lonely_psu": "ignore"}, DesignInvalid, "design-invalid"),
    ],
)
def test_design_validation_errors(kwargs, error, code):
    frame = pd.DataFrame(
        {"y": [1.0, 2, 3, 4], "w": 1.0, "neg": [-1.0, 1, 1, 1], "bad_fpc": [2.0, 2, 2, 3]}
    )
    with pytest.raises(error) as err:
        Design(frame, **kwargs)
    assert err.value.code == code
    assert isinstance(err.value, AnalysisError)


def test_empty_domain_and_missing_column(apistrat):
    design = Design(apistrat, weight="pw", strata="stype", fpc="fpc")
    frame = apistrat.assign(y=np.where(apistrat.stype == "H", np.nan, apistrat.api00))
    with pytest.raises(DomainEmpty):
        Design(frame, weight="pw", strata="stype", fpc="fpc").mean("y", by="stype")
    with pytest.raises(ColumnMissing):
        design.mean("no_such_column")


def test_analysis_does_not_import_server_stack():
    import subprocess
    import sys

    code = (
        "import sys, analysis.survey, analysis.regression;"
        "bad=[m for m in ('flask','flask_sqlalchemy','werkzeug','server') if m in sys.modules];"
        "sys.exit(1 if bad else 0)"
    )
    repo = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=repo).returncode == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-100, 100), st.floats(0.5, 20), st.sampled_from("ab")),
        min_size=6,
        max_size=40,
    ),
    st.floats(0.1, 10),
)
def test_design_invariances(rows, scale):
    frame = pd.DataFrame(rows, columns=["y", "w", "g"])
    frame["psu"] = np.arange(len(frame)) // 2
    frame["s"] = (frame.psu % 2).astype(int)
    if frame.groupby("s").psu.nunique().min() < 2:
        return
    base = Design(frame, weight="w", strata="s", psu="psu")
    scaled = Design(frame.assign(w=frame.w * scale), weight="w", strata="s", psu="psu")
    m0, m1 = base.mean("y").iloc[0], scaled.mean("y").iloc[0]
    assert m1.estimate == pytest.approx(m0.estimate, rel=1e-9, abs=1e-9)
    assert m1.se == pytest.approx(m0.se, rel=1e-7, abs=1e-9)
    t0, t1 = base.total("y").iloc[0], scaled.total("y").iloc[0]
    assert t1.estimate == pytest.approx(scale * t0.estimate, rel=1e-9, abs=1e-6)
    # domain totals add up to the overall total; shuffling rows changes nothing
    by = base.total("y", by="g")
    assert by.estimate.sum() == pytest.approx(t0.estimate, rel=1e-9, abs=1e-6)
    shuffled = Design(frame.sample(frac=1, random_state=0), weight="w", strata="s", psu="psu")
    assert shuffled.mean("y").se.iloc[0] == pytest.approx(m0.se, rel=1e-9, abs=1e-12)


def test_proportion_of_a_categorical_answer(apiclus1):
    design = Design(apiclus1, weight="pw", psu="dnum", fpc="fpc")
    out = design.proportion("stype", by="sch.wide")
    assert list(out.columns[:2]) == ["sch.wide", "level"]
    sums = out.groupby("sch.wide").estimate.sum()
    np.testing.assert_allclose(sums, 1.0)
    # each level equals the proportion of its 0/1 indicator
    frame = apiclus1.assign(is_h=(apiclus1.stype == "H").astype(float))
    direct = Design(frame, weight="pw", psu="dnum", fpc="fpc").proportion("is_h", by="sch.wide")
    h = out[out.level == "H"].reset_index(drop=True)
    np.testing.assert_allclose(
        h[["estimate", "se", "ci_low", "ci_high"]], direct[["estimate", "se", "ci_low", "ci_high"]]
    )


def _three_strata(seed=3):
    """Strata a, b, c of 4 PSUs each, 5 respondents per PSU."""
    rng = np.random.default_rng(seed)
    rows = [{"stratum": s, "psu": f"{s}{j}", "w": rng.uniform(1, 3), "y": rng.normal(),
             "p": rng.random() < 0.4} for s in "abc" for j in range(4) for _ in range(5)]
    return pd.DataFrame(rows)


def test_domain_degrees_of_freedom_count_the_domains_own_psus_and_strata():
    frame = _three_strata()
    # a domain that is one stratum; one over 2 PSUs of a and 1 of b; one over everything
    frame["d"] = np.where(frame["stratum"] == "a", "one-stratum", "rest")
    frame["e"] = frame["psu"].isin(["a0", "a1", "b0"])
    design = Design(frame, weight="w", strata="stratum", psu="psu", df="domain")
    by_stratum = design.mean("y", by="d").set_index("d")
    assert by_stratum.loc["one-stratum", "df"] == 3 and by_stratum.loc["rest", "df"] == 8 - 2
    whole = Design(frame, weight="w", strata="stratum", psu="psu").df
    assert design.mean("y")["df"].item() == 12 - 3 == whole
    spread = design.total("y", by="e").set_index("e")
    assert spread.loc[True, "df"] == 3 - 2 and spread.loc[False, "df"] == 9 - 3
    # the interval is t(domain df) around the same estimate and SE as the design rule
    plain = Design(frame, weight="w", strata="stratum", psu="psu").mean("y", by="d").set_index("d")
    row, ref = by_stratum.loc["one-stratum"], plain.loc["one-stratum"]
    assert row["estimate"] == ref["estimate"] and row["se"] == ref["se"] and ref["df"] == 9
    assert row["ci_high"] - row["estimate"] == pytest.approx(stats.t.ppf(0.975, 3) * row["se"])
    # proportions' logit intervals widen with the smaller df too
    narrow = Design(frame, weight="w", strata="stratum", psu="psu").proportion("p", by="d").set_index("d")
    wide = design.proportion("p", by="d").set_index("d")
    assert wide.loc["one-stratum", "ci_low"] < narrow.loc["one-stratum", "ci_low"]
    assert wide.loc["one-stratum", "ci_high"] > narrow.loc["one-stratum", "ci_high"]
    with pytest.raises(DesignInvalid):
        Design(frame, weight="w", strata="stratum", psu="psu", df="kenward-roger")
