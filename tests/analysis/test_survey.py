"""Golden tests: published R ``survey`` results reproduced to the printed digits.

Sources
-------
* V1, V2: notes/analysis-methods.md §B (R ``survey`` on apistrat / NHANES II).
* apiclus1: Lumley, "A survey analysis example" (vignette of R ``survey``, 2025):
  ``svymean``, ``svytotal``, ``svyratio`` (whole and ``subset(stype=="H")``), ``svyby``,
  ``svyglm`` gaussian and quasibinomial summaries.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import TooFewPsus
from analysis.survey import STAT_COLUMNS
from analysis.survey import Design


def digits(value, printed: str) -> None:
    """Assert ``value`` rounds to the printed figure (same number of decimals)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    assert round(float(value), decimals) == pytest.approx(float(printed), abs=10 ** -(decimals + 6))


@pytest.fixture(scope="module")
def dstrat(apistrat):
    return Design(apistrat, weight="pw", strata="stype", fpc="fpc")


@pytest.fixture(scope="module")
def dclus1(apiclus1):
    return Design(apiclus1, weight="pw", psu="dnum", fpc="fpc")


@pytest.fixture(scope="module")
def dnhanes(nhanes2):
    return Design(nhanes2, weight="finalwgt", strata="stratid", psu="psuid")


# ---------------------------------------------------------------- V1 apistrat
def test_v1_apistrat_mean_api00(dstrat):
    row = dstrat.mean("api00").iloc[0]
    digits(row.estimate, "662.29")
    digits(row.se, "9.4089")
    assert row.df == 200 - 3


def test_v1_apistrat_total_enroll(dstrat):
    row = dstrat.total("enroll").iloc[0]
    digits(row.estimate, "3687178")
    digits(row.se, "114642")


def test_v1_fpc_matters(apistrat):
    without = Design(apistrat, weight="pw", strata="stype").mean("api00").iloc[0]
    assert without.se > 9.4089 + 0.01  # fpc removes ~3% of the sampling fraction variance


def test_fpc_as_fraction_equals_fpc_as_count(apistrat):
    frame = apistrat.assign(frac=apistrat.groupby("stype")["pw"].transform(lambda w: 1 / w))
    by_fraction = Design(frame, weight="pw", strata="stype", fpc="frac").mean("api00")
    by_count = Design(frame, weight="pw", strata="stype", fpc="fpc").mean("api00")
    assert by_fraction.se.iloc[0] == pytest.approx(by_count.se.iloc[0], rel=1e-6)


# ---------------------------------------------------------------- V2 NHANES II
def test_v2_nhanes_zinc_mean_with_t31_ci(dnhanes):
    row = dnhanes.mean("zinc").iloc[0]
    digits(row.estimate, "87.182067")
    digits(row.se, "0.494483")
    assert row.df == 31
    digits(row.ci_low, "86.173563")
    digits(row.ci_high, "88.190571")


def test_v2_nhanes_zinc_by_race_uses_full_design(dnhanes, nhanes2):
    out = dnhanes.mean("zinc", by="race")
    assert list(out.columns) == ["race", *STAT_COLUMNS]
    published = {
        1: ("87.495389", "0.479196"),
        2: ("85.085744", "1.165209"),
        3: ("83.570910", "1.585463"),
    }
    for race, (est, se) in published.items():
        row = out.set_index("race").loc[race]
        digits(row.estimate, est)
        digits(row.se, se)
        assert row.df == 31  # domains keep the full design's df
    # the trap: subsetting the frame first loses the PSUs without race-3 respondents;
    # 13 strata are left with one PSU, the df drop from 31 to 12, and treating those
    # strata as certainty units understates the SE
    sub = nhanes2[nhanes2.race == 3]
    with pytest.raises(TooFewPsus):
        Design(sub, weight="finalwgt", strata="stratid", psu="psuid")
    wrong = Design(sub, weight="finalwgt", strata="stratid", psu="psuid", lonely_psu="certainty")
    assert wrong.df == 12
    assert wrong.mean("zinc").se.iloc[0] < 1.585463 - 0.01


def test_v2_nhanes_without_strata(nhanes2):
    row = Design(nhanes2, weight="finalwgt", psu="psuid").mean("zinc").iloc[0]
    digits(row.se, "0.742622")


# ---------------------------------------------------------------- apiclus1 (vignette)
def test_apiclus1_mean_with_t14_ci(dclus1):
    row = dclus1.mean("api00").iloc[0]
    digits(row.estimate, "644.169")
    digits(row.se, "23.542")
    assert row.df == 14
    digits(row.ci_low, "593.68")
    digits(row.ci_high, "694.66")


def test_apiclus1_totals(dclus1, apiclus1):
    row = dclus1.total("enroll").iloc[0]
    digits(row.estimate, "3404940")
    digits(row.se, "932235")
    # svytotal(~stype, dclus1): totals of indicators == domain counts
    frame = apiclus1.assign(**{f"is_{s}": (apiclus1.stype == s).astype(float) for s in "EHM"})
    design = Design(frame, weight="pw", psu="dnum", fpc="fpc")
    for s, est, se in [
        ("E", "4873.97", "1333.32"),
        ("H", "473.86", "158.70"),
        ("M", "846.17", "167.55"),
    ]:
        row = design.total(f"is_{s}").iloc[0]
        digits(row.estimate, est)
        digits(row.se, se)


def test_apiclus1_ratio_whole_and_domain(dclus1, apiclus1):
    row = dclus1.ratio("api.stu", "enroll").iloc[0]
    digits(row.estimate, "0.8497087")
    digits(row.se, "0.008386297")
    # R: svyratio(..., design=subset(dclus1, stype=="H")) keeps the full design
    h = dclus1.ratio("api.stu", "enroll", by="stype").set_index("stype").loc["H"]
    digits(h.estimate, "0.8300683")
    digits(h.se, "0.01472607")
    naive = Design(apiclus1[apiclus1.stype == "H"], weight="pw", psu="dnum", fpc="fpc")
    assert abs(naive.ratio("api.stu", "enroll").se.iloc[0] - 0.01472607) > 1e-4


def test_apiclus1_svyby_means(dclus1):
    published = {
        "ell": {
            "E": ("29.69444", "1.411617"),
            "H": ("15.00000", "5.347065"),
            "M": ("22.68000", "2.952862"),
        },
        "meals": {
            "E": ("53.09028", "7.070399"),
            "H": ("37.57143", "5.912262"),
            "M": ("43.08000", "6.017110"),
        },
    }
    for var, rows in published.items():
        out = dclus1.mean(var, by="stype").set_index("stype")
        for stype, (est, se) in rows.items():
            digits(out.loc[stype, "estimate"], est)
            digits(out.loc[stype, "se"], se)


def test_apiclus1_svyglm_gaussian(dclus1):
    out = dclus1.regression("api00 ~ ell + meals").set_index("term")
    for term, est, se in [
        ("Intercept", "817.1823", "18.6709"),
        ("ell", "-0.5088", "0.3259"),
        ("meals", "-3.1456", "0.3018"),
    ]:
        digits(out.loc[term, "estimate"], est)
        digits(out.loc[term, "se"], se)
    assert (out.df == 15 - 1 + 1 - 3).all()  # R: degf + 1 - p
    digits(out.loc["Intercept", "estimate"] / out.loc["Intercept", "se"], "43.768")


def test_apiclus1_svyglm_logistic(dclus1):
    out = dclus1.regression("sch_wide_yes ~ ell + meals", family="binomial").set_index("term")
    for term, est, se in [
        ("Intercept", "1.899557", "0.509915"),
        ("ell", "0.039925", "0.012443"),
        ("meals", "-0.019115", "0.008825"),
    ]:
        digits(out.loc[term, "estimate"], est)
        digits(out.loc[term, "se"], se)


def test_regression_missing_rows_are_a_domain_not_a_subset(dclus1, apiclus1):
    frame = apiclus1.copy()
    frame.loc[frame.index[:20], "ell"] = np.nan
    out = Design(frame, weight="pw", psu="dnum", fpc="fpc").regression("api00 ~ ell")
    assert out.n.iloc[0] == len(frame) - 20
    assert np.isfinite(out.se).all()


def test_regression_deff_is_against_unweighted_glm(dclus1, apiclus1):
    # R svyglm(deff=TRUE) (tests/defftest.R): design variance / unweighted glm variance
    import statsmodels.api as sm

    out = dclus1.regression("api99 ~ enroll + api.stu")
    naive = sm.OLS(apiclus1["api99"], sm.add_constant(apiclus1[["enroll", "api.stu"]])).fit()
    expected = out.se.to_numpy() ** 2 / naive.bse.to_numpy() ** 2
    np.testing.assert_allclose(out.deff.to_numpy(), expected, rtol=1e-8)
