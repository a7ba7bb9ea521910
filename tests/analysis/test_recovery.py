"""Parameter recovery, fast version: 8 generated seasons through the product's path (see recovery.py).

The full check (50 seeds, 8,000 interviews each) is ``tests/bench/bench_recovery.py``. Here 8 seeds
of 4,000 interviews (1,000 a round, about 28 approached per commune) give 288 district × round
intervals and 8 DiD intervals per post round. Bands are binomial: with coverage 0.95 and 288
intervals, 3 binomial standard errors are ±0.04 (seeds make the cells somewhat dependent, so
the band is not tighter than that); for 8 DiD intervals, 5 or fewer covered has probability
below 0.006 at a coverage of 0.95.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.analysis.recovery import run

SEEDS = range(100, 108)
INTERVIEWS = 4000


@pytest.fixture(scope="module")
def recovered():
    return run(SEEDS, INTERVIEWS, diagnostics=False)


def test_district_round_means_cover_the_truth(recovered):
    cells, _ = recovered
    assert len(cells) == len(SEEDS) * 4 * 9
    coverage = cells["covered"].mean()
    assert 0.90 <= coverage <= 0.995, coverage
    # unbiased: the mean error is within 3 Monte Carlo standard errors of zero
    err = cells["error"]
    assert abs(err.mean()) < 3 * err.std(ddof=1) / np.sqrt(len(err))


def test_the_coverage_check_can_fail(recovered):
    """Against a truth shifted by about one standard error, coverage falls well below the band."""
    cells, _ = recovered
    shifted = cells["truth"] + cells["se"].mean()
    covered = (cells["ci_low"] <= shifted) & (shifted <= cells["ci_high"])
    assert covered.mean() < 0.90


def test_did_covers_the_true_outreach_effect(recovered):
    _, dids = recovered
    unadjusted = dids[dids["model"] == "unadjusted"]
    assert len(unadjusted) == 2 * len(SEEDS)
    for post, part in unadjusted.groupby("post"):
        assert part["covers_effect"].sum() >= 6, (post, part)
        assert part["covers_pop_did"].sum() >= 6, (post, part)
    # the score-scale DiD target differs from the true effect only by the (small) trend gap
    assert (dids["trend_gap"].abs() < 0.2 * dids["se"]).all()
    assert np.allclose(dids["pop_did"] - dids["effect"], dids["trend_gap"], atol=1e-12)
    assert (dids["effect"] > 0).all()
