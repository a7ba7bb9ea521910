"""Design weights of the stratified two-stage sample, and the check that they add up.

The design (one independent sample per round)
---------------------------------------------
* Strata: the 9 districts (h). Target population M_h = adults 15–79 of district h
  (:mod:`analysis.population`: census bands 15-19 … 75-79).
* First stage: n_h communes (PSUs, i) drawn in district h with probability proportional to
  their adult population M_i: pi_i = n_h · M_i / M_h.
* Second stage: m_i respondents drawn by simple random sampling from the M_i adults of
  commune i: pi_j|i = m_i / M_i.
* Weight: w_ij = 1 / (pi_i · pi_j|i) = M_h / (n_h · m_i). Every respondent of a district who
  lives in a commune with the same number of interviews gets the same weight, and the weights
  of a district add up to M_h exactly: sum_i m_i · M_h / (n_h m_i) = M_h.

With ``selection="srs"`` (communes drawn with equal probability, pi_i = n_h / N_h, N_h the
number of communes in the district) the weight is w_ij = N_h · M_i / (n_h · m_i); its district
total, (N_h / n_h) · sum_i M_i over sampled communes, equals M_h only in expectation, so
``calibrate=True`` then scales each district's weights to M_h (post-stratification on
district).

Nonresponse (``nonresponse=True``, the default, needs ``counts`` from
:func:`analysis.tidy.response_counts`): within commune, the base weight computed with the
m_i^att people approached is multiplied by m_i^att / m_i^resp (refusals are assumed missing
at random within commune; the adjustment cell is the commune). A sampled commune where
everyone refused cannot carry weight; its district's other communes absorb it (n_h counts
only communes with respondents). Without counts, m_i is the number of respondents, which is
the same adjusted weight. With ``nonresponse=False`` and counts, the base weights are
returned: they add up to M_h times the district's response rate, which the check flags.

Planned rounds: where the frame has ``pi_commune`` (written by
:func:`analysis.next_round.design_columns` on the rows of a round an approved plan drew), the base
weight is ``M_i / (pi_i · m_i^att)`` with that recorded inclusion probability (the same adjustments
follow). Its district total is M_h in expectation, not exactly: the plan's PPS is on a tilted size;
the reports therefore pass ``calibrate=True`` (a no-op on the fixed design, whose totals are exact).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._taylor import require_columns
from analysis.errors import DesignInvalid
from analysis.errors import PlaceUnknown
from analysis.errors import WeightsInconsistent
from analysis.population import communes as census_communes

__all__ = ["design_weights", "weight_table", "check_weights", "district_population"]


def district_population(population=None) -> pd.Series:
    """Adults 15–79 per district code (M_h)."""
    places = census_communes() if population is None else population
    return places.groupby("district_code")["adult_population"].sum()


def weight_table(frame, *, population=None, counts=None, selection="pps", nonresponse=True,
                 round="round", stratum="stratum", psu="psu") -> pd.DataFrame:
    """Weight components per round and sampled commune.

    Returns
    -------
    pandas.DataFrame
        ``round, stratum, psu, M_h, M_i, N_h, n_h, attempted, respondents, weight``.
    """
    if selection not in ("pps", "srs"):
        raise DesignInvalid(f"selection must be 'pps' or 'srs', got {selection!r}")
    require_columns(frame, [round, stratum, psu])
    places = census_communes() if population is None else population
    by_key = places.set_index("commune_key")
    m = frame.groupby([round, stratum, psu]).size().rename("respondents").reset_index()
    m[stratum] = m[stratum].astype(str)
    m[psu] = m[psu].astype(str)
    if counts is not None:
        require_columns(counts, ["round", "commune_key", "attempted"])
        att = counts.rename(columns={"round": round, "commune_key": psu})[[round, psu, "attempted"]]
        att = att.astype({psu: str})
        m = m.merge(att, on=[round, psu], how="left")
        if m["attempted"].isna().any():
            raise DesignInvalid("counts lack some sampled communes (round, commune)")
        if (m["attempted"] < m["respondents"]).any():
            raise DesignInvalid("counts report fewer people approached than respondents")
    else:
        m["attempted"] = m["respondents"]
    unknown = sorted(set(m[psu]) - set(by_key.index))
    if unknown:
        raise PlaceUnknown(f"commune(s) not in the census list: {unknown[:5]}", communes=unknown)
    M_h = district_population(places)
    m["M_h"] = m[stratum].map(M_h).astype("float64")
    m["M_i"] = by_key.loc[m[psu], "adult_population"].to_numpy(dtype="float64")
    m["N_h"] = m[stratum].map(places.groupby("district_code").size()).astype("int64")
    # communes approached (with or without respondents) and communes with respondents
    n_sel = m.groupby([round, stratum])[psu].transform("nunique")
    if counts is not None:
        sel = counts.rename(columns={"round": round, "commune_key": psu})
        sel = sel.astype({psu: str}).assign(**{stratum: lambda d: d["district_code"].astype(str)})
        n_sel_all = sel.groupby([round, stratum])[psu].nunique()
        n_sel = pd.Series(
            n_sel_all.reindex(pd.MultiIndex.from_frame(m[[round, stratum]])).to_numpy(), index=m.index)
    m["n_h"] = m.groupby([round, stratum])[psu].transform("nunique")
    if (m["M_i"] <= 0).any():
        raise DesignInvalid("a sampled commune has no adult population in the census")
    if selection == "pps":
        base = m["M_h"] / (n_sel * m["attempted"])
    else:
        base = m["N_h"] * m["M_i"] / (n_sel * m["attempted"])
    recorded = _recorded_pi(frame, m, round, psu)
    if recorded is not None:
        # a round drawn by a plan (analysis.next_round): its recorded inclusion probability, M_i / (pi_i ·
        # attempted), which is the line above when pi_i = n_h M_i / M_h
        base = base.where(recorded.isna(), m["M_i"] / (recorded * m["attempted"]))
    if nonresponse:
        base = base * (m["attempted"] / m["respondents"]) * (n_sel / m["n_h"])
    m["weight"] = base.astype("float64")
    return m[[round, stratum, psu, "M_h", "M_i", "N_h", "n_h", "attempted", "respondents", "weight"]]


def _recorded_pi(frame, table, round, psu):
    """Recorded first-stage pi of each (round, commune) of ``table`` (NaN where none; None without any)."""
    if "pi_commune" not in frame.columns:
        return None
    pis = frame[[round, psu, "pi_commune"]].astype({psu: str}).dropna(subset=["pi_commune"])
    pis = pis.drop_duplicates([round, psu])
    if pis.empty:
        return None
    if ((pis["pi_commune"] <= 0) | (pis["pi_commune"] > 1)).any():
        raise DesignInvalid("recorded inclusion probabilities (pi_commune) must lie in (0, 1]")
    found = table[[round, psu]].merge(pis, on=[round, psu], how="left")
    return pd.Series(found["pi_commune"].to_numpy(dtype="float64"), index=table.index)


def design_weights(frame, *, population=None, counts=None, selection="pps", nonresponse=True,
                   calibrate=False, round="round", stratum="stratum", psu="psu", name="weight"):
    """Respondent frame with a ``name`` column of design weights (see module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        Respondents (``analysis.tidy.respondents``).
    population : pandas.DataFrame, optional
        Census communes (``analysis.population.communes()``, the default).
    counts : pandas.DataFrame, optional
        ``analysis.tidy.response_counts`` of the same submissions, for the nonresponse
        adjustment (and communes where everyone refused).
    selection : {"pps", "srs"}
        How communes were drawn within district.
    nonresponse : bool
        Adjust for refusals within commune.
    calibrate : bool
        Scale each round × district so the weights add up to M_h exactly.
    round, stratum, psu, name : str
        Column names.
    """
    table = weight_table(frame, population=population, counts=counts, selection=selection,
                         nonresponse=nonresponse, round=round, stratum=stratum, psu=psu)
    if calibrate:
        total = (table["weight"] * table["respondents"]).groupby(
            [table[round], table[stratum]]).transform("sum")
        table["weight"] = table["weight"] * table["M_h"] / total
    # each row's (round, commune) looked up in the table as one integer: pairs of a million
    # respondents would be a million tuples
    codes, psus = pd.factorize(frame[psu].astype(str).to_numpy(dtype=object))
    table_psu = pd.Index(psus).get_indexer(table[psu].astype(str).to_numpy(dtype=object))
    rounds, round_values = pd.factorize(frame[round].to_numpy())
    table_round = pd.Index(round_values).get_indexer(table[round].to_numpy())
    width = len(psus) + 1
    table_key = np.where((table_psu >= 0) & (table_round >= 0), table_round * width + table_psu, -1)
    if pd.Index(table_key[table_key >= 0]).has_duplicates:
        raise DesignInvalid("weight table has duplicate (round, commune) rows")
    row_key = np.where(rounds >= 0, rounds.astype(np.int64) * width + codes, -2)  # no round: no weight
    found = pd.Index(table_key).get_indexer(row_key)
    values = table["weight"].to_numpy(dtype="float64")
    out = frame.copy(deep=False)  # copy-on-write (pandas 3): new columns leave ``frame`` as it was
    out[name] = np.where(found >= 0, values[found], np.nan)
    return out


def check_weights(frame, *, population=None, weight="weight", round="round", stratum="stratum",
                  tolerance=1e-6, strict=False) -> pd.DataFrame:
    """Compare each round × district weight total with the census adult population M_h.

    Returns
    -------
    pandas.DataFrame
        ``round, stratum, weight_sum, population, relative_difference, ok``.

    Raises
    ------
    WeightsInconsistent
        With ``strict=True``, when a relative difference exceeds ``tolerance`` or a district
        of the census has no respondents in a round (the population would not be covered).
    """
    require_columns(frame, [weight, round, stratum])
    M_h = district_population(population)
    sums = frame.groupby([round, frame[stratum].astype(str)])[weight].sum().rename("weight_sum").reset_index()
    rounds = sums[round].unique()
    grid = pd.MultiIndex.from_product([rounds, M_h.index], names=[round, stratum]).to_frame(index=False)
    out = grid.merge(sums, on=[round, stratum], how="left")
    out["weight_sum"] = out["weight_sum"].fillna(0.0)
    out["population"] = out[stratum].map(M_h).astype("float64")
    out["relative_difference"] = (out["weight_sum"] - out["population"]) / out["population"]
    out["ok"] = np.abs(out["relative_difference"]) <= tolerance
    if strict and not out["ok"].all():
        bad = out.loc[~out["ok"], [round, stratum, "relative_difference"]]
        raise WeightsInconsistent(
            f"weights do not add up to the district adult population: {bad.to_dict('records')[:5]}",
            cells=bad.to_dict("records"))
    return out
