"""The first-stage benchmark's variance estimates (``tests/bench/bench_first_stage.py``), on known answers.

The benchmark says whether exact joint inclusion probabilities would close the district variance's shortfall
on a tilted draw; that holds only if its Sen–Yates–Grundy and Hartley–Rao estimates are right where the answer
is known: equal sizes, where randomised systematic PPS is simple random sampling without replacement.
"""

from __future__ import annotations

import numpy as np

from tests.bench.bench_first_stage import estimates
from tests.bench.bench_first_stage import joint_inclusion


def test_equal_sizes_give_simple_random_sampling_joint_probabilities():
    from analysis.next_round import inclusion

    sizes = np.full(9, 1000.0)
    pi, certain = inclusion(sizes, 4, np.zeros(9, dtype=bool))
    pij = joint_inclusion(np.random.default_rng(1), sizes, pi, certain, 20_000)
    off = pij[~np.eye(9, dtype=bool)]
    assert np.allclose(np.diag(pij), 4 / 9, atol=0.015)
    assert np.allclose(off, 4 * 3 / (9 * 8), atol=0.015)  # n(n-1) / (N(N-1))


def test_with_equal_sizes_each_estimate_is_the_textbook_one():
    # N = 9 communes of equal adults, n = 4: the ratio mean is the sample mean, and its variance estimate is
    # (1 - n/N) s² / n; Hartley–Rao and Sen–Yates–Grundy with the exact pi_ij both give exactly that
    n, big_n = 4, 9
    adults = np.full(big_n, 1000.0)
    pi = np.full(big_n, n / big_n)
    pij = np.full((big_n, big_n), n * (n - 1) / (big_n * (big_n - 1)))
    np.fill_diagonal(pij, n / big_n)
    y = np.array([0.2, 0.9, 0.4, 0.55, 0.3, 0.7, 0.61, 0.45, 0.8])
    selected = np.zeros(big_n, dtype=bool)
    selected[[0, 1, 3, 6]] = True
    mean, hartley_rao, syg, jackknife = estimates(y, adults, pi, pij, selected, np.zeros(big_n, dtype=bool))
    sample = y[selected]
    textbook = (1 - n / big_n) * sample.var(ddof=1) / n
    assert np.isclose(mean, sample.mean())
    assert np.isclose(hartley_rao, textbook)
    assert np.isclose(syg, textbook)
    assert np.isclose(jackknife, textbook)  # JK1 of a mean is s²/n; times 1 - n/N


def test_a_certainty_unit_adds_no_first_stage_variance():
    # one commune taken with certainty (pi = 1) and three of seven equal others by SRS: Hartley–Rao over the
    # drawn units (the reports' own stratum for certainty units) equals Sen–Yates–Grundy with the exact pi_ij,
    # in which every pair with the certainty unit has pi_ij = pi_j and adds nothing
    adults = np.array([5000.0] + [1000.0] * 7)
    certain = np.array([True] + [False] * 7)
    pi = np.where(certain, 1.0, 3 / 7)
    pij = np.outer(pi, pi)  # pairs with the certainty unit: pi_j
    others = ~certain
    pij[np.ix_(others, others)] = 3 * 2 / (7 * 6)
    np.fill_diagonal(pij, pi)
    y = np.array([0.9, 0.2, 0.4, 0.55, 0.3, 0.7, 0.61, 0.45])
    selected = np.zeros(8, dtype=bool)
    selected[[0, 1, 3, 6]] = True
    _, hartley_rao, syg, _ = estimates(y, adults, pi, pij, selected, certain)
    assert hartley_rao > 0
    assert np.isclose(hartley_rao, syg)
