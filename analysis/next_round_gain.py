"""The expected gain of a next-round plan: interval widths and the chance of a wrong tier, before and after.

Approximations (documented in :mod:`analysis.next_round` and ``docs/analysis.md``): a commune's estimate
is a Fay–Herriot posterior with known area variance A and direct variance V = s²_h / take; a district's
variance is the Horvitz–Thompson variance of its mean under a random-effects model for the communes
(area variance A) and people (s²_h), first stage over every commune, second stage over the drawn ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))
#: Gauss–Hermite nodes for the preposterior expectation over the commune's next estimate.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def variance_components(last: pd.DataFrame, districts: np.ndarray) -> tuple[float, dict, float]:
    """A (area variance), s²_h per district and the city's s² from the last round's commune table.

    A: the median MSE of communes without interviews (a model estimate's MSE is A plus a small term).
    s²: sampled communes' direct variance from their shrinkage gamma = A / (A + V), times their n.
    NaN where the table does not allow it (no last round).
    """
    se = last["knowledge_se"].to_numpy(dtype="float64")
    n = last["n_last"].to_numpy(dtype="float64")
    gamma = last["shrinkage"].to_numpy(dtype="float64")
    model = (n == 0) & np.isfinite(se)
    area = float(np.median(se[model] ** 2)) if model.any() else np.nan
    usable = (n > 0) & np.isfinite(gamma) & (gamma > 0) & (gamma < 1)
    per_person = np.where(usable, area * (1 - gamma) / np.where(usable, gamma, 1) * n, np.nan)
    city = float(np.nanmedian(per_person)) if np.isfinite(per_person).any() else np.nan
    within = {}
    for code in np.unique(districts):
        values = per_person[(districts == code) & np.isfinite(per_person)]
        within[code] = float(np.median(values)) if len(values) else city
    return area, within, city


def wrong_tier_after(p: np.ndarray, se_before: np.ndarray, se_after: np.ndarray) -> np.ndarray:
    """Expected chance of a wrong top-k call after the new take (preposterior; see the module docstring)."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    d = stats.norm.ppf(p) * se_before  # distance to the boundary, in the estimate's units
    spread = np.sqrt(np.maximum(se_before**2 - se_after**2, 0.0))
    future = d[:, None] + spread[:, None] * _NODES[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        wrong = stats.norm.cdf(-np.abs(future) / se_after[:, None])
    wrong = np.where(se_after[:, None] > 0, wrong, 0.0)
    return wrong @ _WEIGHTS


def district_variance(adults, pi, take, selected, area, within) -> float:
    """Variance of a district mean: A Σ (1 − pi) M²/pi / M_h² + s² Σ_sel (M/pi)²/m / M_h²."""
    total = adults.sum()
    ok = pi > 0
    first = area * np.sum((1 - pi[ok]) * adults[ok] ** 2 / pi[ok]) / total**2
    drawn = selected & (take > 0)
    second = within * np.sum((adults[drawn] / pi[drawn]) ** 2 / take[drawn]) / total**2
    return float(first + second)


def expected_gain(frame: pd.DataFrame, last: pd.DataFrame, params) -> pd.DataFrame:
    """Gain rows (``measure, place, level, before, after``) of a plan frame (see the module docstring)."""
    from analysis.next_round import inclusion

    districts = frame["district_code"].astype(str).to_numpy()
    area, within, _ = variance_components(last, districts)
    rows = []
    sel = frame["selected"].to_numpy()
    take = frame["take"].to_numpy(dtype="float64")
    s2 = np.array([within.get(code, np.nan) for code in districts])
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = s2 / take
        post = area * direct / (area + direct)
    se_before = last["knowledge_se"].to_numpy(dtype="float64")
    se_after = np.sqrt(np.where(take > 0, post, area))
    width_before = last["knowledge_width"].to_numpy(dtype="float64")
    p = frame["p_top_k"].to_numpy(dtype="float64")
    known = np.isfinite(p) & np.isfinite(se_before) & np.isfinite(se_after)
    wrong_after = np.full(len(frame), np.nan)
    if known.any():
        wrong_after[known] = wrong_tier_after(p[known], se_before[known], np.minimum(se_after[known],
                                                                                    se_before[known]))
    for i in np.flatnonzero(sel):
        key = str(frame["commune_key"].iloc[i])
        rows.append(("width", key, "commune", width_before[i], 2 * Z95 * se_after[i]))
        rows.append(("wrong_tier", key, "commune", min(p[i], 1 - p[i]) if np.isfinite(p[i]) else np.nan,
                     wrong_after[i]))
    # districts and the city: fixed design (PPS on adults, equal takes of the same budget) vs the plan
    adults = frame["adults"].to_numpy(dtype="float64")
    pi = frame["pi"].to_numpy(dtype="float64")
    visits = int(sel.sum())
    equal_take = params.interviews / max(visits, 1)
    city_before = city_after = 0.0
    city_total = adults.sum()
    for code in sorted(set(districts)):
        r = districts == code
        n_h = int(sel[r].sum())
        fixed_pi, _ = inclusion(adults[r], n_h, np.zeros(r.sum(), dtype=bool))
        m_h = adults[r].sum()
        v_before = (area * np.sum((1 - fixed_pi) * adults[r] ** 2 / fixed_pi) / m_h**2
                    + within.get(code, np.nan) / (n_h * equal_take))
        v_after = district_variance(adults[r], pi[r], take[r], sel[r], area, within.get(code, np.nan))
        rows.append(("width", code, "district", 2 * Z95 * np.sqrt(v_before), 2 * Z95 * np.sqrt(v_after)))
        city_before += (m_h / city_total) ** 2 * v_before
        city_after += (m_h / city_total) ** 2 * v_after
    rows.append(("width", "city", "city", 2 * Z95 * np.sqrt(city_before), 2 * Z95 * np.sqrt(city_after)))
    return pd.DataFrame(rows, columns=["measure", "place", "level", "before", "after"]).astype(
        {"before": "float64", "after": "float64"})
