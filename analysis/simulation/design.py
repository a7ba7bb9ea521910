"""The sample design of a round: PPS communes within districts, a fixed take, and the weights.

First stage: randomised systematic PPS (Hartley & Rao 1962): the district's communes are put in
a random order, cumulated on their adult population M_i, and n_h communes are taken at a random
start and a fixed step. The inclusion probability is exactly ``pi_i = n_h M_i / M_h``. A commune
with ``n_h M_i >= M_h`` cannot be drawn that way: it is taken with certainty (``pi_i = 1``) and the
rest are drawn from the remaining communes with ``n_h - 1`` (repeated until none is that large).
With the default 4 communes per district no Cần Thơ commune is that large (largest share 0.215).

Second stage: ``m_i`` people approached by simple random sampling from the commune's adults:
``pi_j|i = m_i / M_i``. Nonresponse: a person refuses with a probability constant within the
commune, and the weight of the ``r_i`` respondents is ``M_i / (pi_i r_i)`` (base weight times
``m_i / r_i``), so a district's weights add up to M_h exactly (``analysis.weights`` computes the
same weights from the submissions when no commune is a certainty unit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import DesignInvalid

__all__ = ["select_communes", "planned_communes", "allocate", "weights"]


def _systematic(rng, sizes: np.ndarray, n: int) -> np.ndarray:
    """Positions (into ``sizes``) drawn by systematic PPS in the given order."""
    cum = np.cumsum(sizes)
    step = cum[-1] / n
    points = rng.uniform(0, step) + step * np.arange(n)
    return np.searchsorted(cum, points, side="right")


def select_communes(rng, frame: pd.DataFrame, n_per_district: int) -> pd.DataFrame:
    """PSUs of one round: ``district_code, commune_key, commune, M_i, M_h, pi`` (see module doc).

    Parameters
    ----------
    rng : numpy.random.Generator
    frame : pandas.DataFrame
        Census communes (``analysis.population.communes``) with an integer ``index`` column.
    n_per_district : int
        n_h, capped at the number of communes of the district.
    """
    rows = []
    for code, group in frame.groupby("district_code", sort=True):
        group = group.iloc[rng.permutation(len(group))]
        sizes = group["adult_population"].to_numpy(dtype="float64")
        M_h = sizes.sum()
        n = min(n_per_district, len(group))
        certain = np.zeros(len(group), dtype=bool)
        while True:  # peel off certainty units until the rest can be drawn with pi < 1
            rest = ~certain
            big = rest & (sizes * (n - certain.sum()) >= sizes[rest].sum())
            if not big.any() or certain.sum() >= n:
                break
            certain |= big
        n_rest = n - int(certain.sum())
        pi = np.where(certain, 1.0, 0.0)
        picked = list(np.flatnonzero(certain))
        if n_rest > 0:
            rest_idx = np.flatnonzero(~certain)
            rest_sizes = sizes[rest_idx]
            pi[rest_idx] = n_rest * rest_sizes / rest_sizes.sum()
            picked += list(rest_idx[_systematic(rng, rest_sizes, n_rest)])
        for k in picked:
            rows.append({"district_code": code, "commune_key": group["commune_key"].iloc[k],
                         "commune": int(group["index"].iloc[k]), "M_i": sizes[k], "M_h": M_h,
                         "pi": float(pi[k]), "certainty": bool(certain[k])})
    out = pd.DataFrame(rows)
    if out["commune_key"].duplicated().any():  # impossible when every pi < 1; guard the invariant
        raise DesignInvalid("systematic PPS drew a commune twice")
    return out


def planned_communes(frame: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """PSUs of a round drawn by a plan (``analysis.next_round`` ``Plan.frame``): its selected communes,
    their recorded ``pi`` and ``certainty``, and ``take``, in the columns :func:`select_communes` gives."""
    chosen = plan[plan["selected"].astype(bool)].copy()
    chosen["commune_key"] = chosen["commune_key"].astype(str)
    census = frame.assign(commune_key=frame["commune_key"].astype(str)).set_index("commune_key")
    unknown = sorted(set(chosen["commune_key"]) - set(census.index))
    if unknown:
        raise DesignInvalid(f"the plan visits communes not in the census: {unknown[:5]}")
    if (chosen["take"] < 1).any():
        raise DesignInvalid("a visited commune of the plan has no interviews")
    totals = frame.groupby(frame["district_code"].astype(str))["adult_population"].sum()
    rows = census.loc[chosen["commune_key"]]
    return pd.DataFrame({"district_code": rows["district_code"].astype(str).to_numpy(),
                         "commune_key": chosen["commune_key"].to_numpy(),
                         "commune": rows["index"].astype(int).to_numpy(),
                         "M_i": rows["adult_population"].to_numpy(dtype="float64"),
                         "M_h": rows["district_code"].astype(str).map(totals).to_numpy(dtype="float64"),
                         "pi": chosen["pi"].to_numpy(dtype="float64"),
                         "certainty": chosen["certainty"].astype(bool).to_numpy(),
                         "take": chosen["take"].astype(int).to_numpy()})


def allocate(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` integers as equal as possible (the first ones get the extra)."""
    base, extra = divmod(total, parts)
    return [base + (1 if k < extra else 0) for k in range(parts)]


def weights(sample: pd.DataFrame) -> np.ndarray:
    """Design weights of the sampled people (NaN for refusals), nonresponse-adjusted per commune.

    ``sample`` has ``round, stratum, psu, M_i, M_h, pi, refused``. Where everyone in a commune
    refused, the district's other respondents are scaled up to M_h (the commune cannot carry
    weight, as in ``analysis.weights``).
    """
    key = [sample["round"], sample["psu"]]
    respondents = (~sample["refused"]).groupby(key).transform("sum").to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        w = sample["M_i"].to_numpy() / (sample["pi"].to_numpy() * respondents)
    w = np.where(sample["refused"].to_numpy(), np.nan, w)
    frame = pd.DataFrame({"round": sample["round"], "stratum": sample["stratum"], "w": w,
                          "M_h": sample["M_h"]})
    total = frame.groupby(["round", "stratum"])["w"].transform("sum")
    # exactly 1 unless a commune had no respondent: then the others absorb its share
    lost = (sample.groupby(key)["refused"].transform("all")).groupby(
        [sample["round"], sample["stratum"]]).transform("any").to_numpy()
    scale = np.where(lost, frame["M_h"] / total, 1.0)
    return w * scale
