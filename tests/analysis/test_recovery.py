"""Coverage of the reports' intervals, fast version: a few generated seasons through the reports' path.

The full check (50 seeds, 8,000 interviews each, every indicator × level and the DiD) is
``tests/bench/bench_recovery.py``; ``tests/analysis/recovery.py`` has the path. Here 5 seeds of
4,000 interviews (1,000 a round, about 28 approached per commune) give, per indicator, 180 district
× round intervals, 20 city ones and 120 target-group ones, and 10 report DiDs.

Bands. Intervals of one season share its population and sample, so the Monte Carlo spread is that
of seed means: on the bench's 50 seeds the district × round coverage of one seed has an sd of about
0.03 (all three indicators pooled: 108 intervals a seed), 0.013 over 5 seeds; the bands are 0.95 ±
3 of those, [0.91, 0.99]. They fail if the SEs shrink by a fifth or the df is the whole design's
with the with-replacement variance replaced by the fpc'd one (``test_the_coverage_check_can_fail``).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.analysis.recovery import GROUPS
from tests.analysis.recovery import run

SEEDS = range(100, 105)
INTERVIEWS = 4000


@pytest.fixture(scope="module")
def recovered():
    return run(SEEDS, INTERVIEWS)


def _covered(cells, shrink=1.0):
    half_low = (cells["estimate"] - cells["ci_low"]) * shrink
    half_high = (cells["ci_high"] - cells["estimate"]) * shrink
    truth = cells["truth"]
    return (cells["estimate"] - half_low <= truth) & (truth <= cells["estimate"] + half_high)


def test_the_reports_intervals_cover_the_truth(recovered):
    cells = recovered["cells"]
    district = cells[cells["level"] == "district"]
    assert len(district) == len(SEEDS) * 4 * 9 * 3
    assert 0.91 <= district["covered"].mean() <= 0.99, district.groupby("indicator")["covered"].mean()
    groups = cells[cells["level"] == "group"]
    assert len(groups) == len(SEEDS) * 4 * len(GROUPS) * 3
    assert 0.91 <= groups["covered"].mean() <= 0.99, groups.groupby("indicator")["covered"].mean()
    city = cells[cells["level"] == "city"]
    assert len(city) == len(SEEDS) * 4 * 3 and city["covered"].sum() >= 0.85 * len(city)
    # unbiased: the mean error is within 3 Monte Carlo standard errors of zero
    for _, part in cells.groupby("level"):
        err = part["error"]
        assert abs(err.mean()) < 3 * err.std(ddof=1) / np.sqrt(len(err))
    # the intervals are the report's own: a district cell has its own Satterthwaite df (from the round's
    # pooled between/within ratio), not the round's 27
    assert district["df"].min() >= 3 and district["df"].max() < 27 and district["df"].nunique() >= 5


def test_the_coverage_check_can_fail(recovered):
    """Intervals a fifth narrower, or against a truth shifted by one standard error, fall below the band."""
    district = recovered["cells"][recovered["cells"]["level"] == "district"]
    assert _covered(district, 0.8).mean() < 0.93
    shifted = district.assign(truth=district["truth"] + district["se"])
    assert _covered(shifted).mean() < 0.91


def test_the_reports_did_covers_the_true_outreach_effect(recovered):
    dids = recovered["dids"]
    unadjusted = dids[dids["model"] == "unadjusted"]
    assert sorted(unadjusted["post"].unique()) == [2018, 2019] and len(unadjusted) == 2 * len(SEEDS)
    # 10 intervals: at a coverage of 0.95, 7 or fewer covered has probability below 0.012
    assert unadjusted["covers_effect"].sum() >= 8, unadjusted
    assert unadjusted["covers_pop_did"].sum() >= 8, unadjusted
    # the score-scale DiD target differs from the true effect only by the (small) trend gap
    assert (dids["trend_gap"].abs() < 0.25 * dids["se"]).all()
    assert np.allclose(dids["pop_did"] - dids["effect"], dids["trend_gap"], atol=1e-12)
    assert (dids["effect"] > 0).all() and (dids["communes_reached"] > 0).all()
