"""Estimates the reports share: the headline indicators, the design, target groups and pooled change.

The awareness-gap report (:mod:`analysis.gap_report`) and the server's one-table reports
(``server/reports/service.py``) both read these, so a table that appears in both is computed one way.
"""

from __future__ import annotations

import pandas as pd

from analysis.change import change
from analysis.disclosure import suppress_small
from analysis.errors import DomainEmpty
from analysis.groups import add_group_columns
from analysis.groups import load_groups
from analysis.levels import estimate
from analysis.levels import report_design
from analysis.survey import Design

__all__ = ["HEADLINE", "DESIGN", "group_levels", "pooled_rounds", "round_changes"]

#: Indicators of the levels, groups and change tables (the yearly report's, without the risk share).
HEADLINE = ("knowledge", "aware_signs_3", "hotline_aware")
#: How the respondents' columns describe the survey design: strata = districts, PSUs = communes.
DESIGN = {"weight": "weight", "strata": "stratum", "psu": "psu", "lonely_psu": "adjust"}
#: The design the report tables estimate with: the columns above and the reports' interval convention.
REPORT_DESIGN = report_design()


def group_levels(frame, *, round_, definitions=None, level=0.95) -> pd.DataFrame:
    """Headline indicators per target group (``analysis/groups.json``) in round ``round_``, one design.

    Returns ``round, group, indicator`` and the estimate's columns, for each group with members
    (in the order of the definitions).
    """
    definitions = definitions if isinstance(definitions, list) else load_groups(definitions)
    this = add_group_columns(frame[frame["round"] == round_].reset_index(drop=True), definitions)
    design = Design(this, **REPORT_DESIGN)
    rows = []
    for group in definitions:
        name = group["name"]
        if not this[name].fillna(False).any():
            continue
        for indicator in HEADLINE:
            table = estimate(design, indicator, name, level=level)
            table = table[table[name].astype(bool)].drop(columns=name)
            table.insert(0, "indicator", indicator)
            table.insert(0, "group", name)
            table.insert(0, "round", int(round_))
            rows.append(table)
    if not rows:
        return pd.DataFrame(columns=["round", "group", "indicator"])
    return pd.concat(rows, ignore_index=True)


def pooled_rounds(frame, a, b) -> pd.DataFrame:
    """Respondents of rounds ``a`` and ``b`` as one design: strata district × round, PSUs commune × round.

    Each round is its own PPS draw of communes, so a stratum or PSU of one round is never one of the other.
    """
    pooled = frame[frame["round"].isin([a, b])].reset_index(drop=True)
    return pooled.assign(_stratum=pooled["stratum"].astype(str) + "|" + pooled["round"].astype(str),
                         _psu=pooled["psu"].astype(str) + "|" + pooled["round"].astype(str))


def round_changes(frame, *, a, b, min_n=1) -> pd.DataFrame:
    """Change of each headline indicator from round ``a`` to ``b``, per district and for the city (``all``).

    ``n`` is the smaller round's count of respondents; figures with ``n`` below ``min_n`` are withheld.
    """
    pooled = pooled_rounds(frame, a, b).assign(_all="all")
    rows = []
    for indicator in HEADLINE:
        kw = {"y": indicator, "round": "round", "a": a, "b": b,
              **report_design(strata="_stratum", psu="_psu")}
        for by in ("stratum", "_all"):
            try:
                table = change(pooled, by=by, **kw).rename(columns={by: "district_code"})
            except DomainEmpty:
                continue
            table.insert(0, "indicator", indicator)
            rows.append(table)
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    out.insert(0, "to", b)
    out.insert(0, "from", a)
    per_round = pooled.groupby(["round", "stratum"]).size().unstack(0).reindex(columns=[a, b])
    counts = per_round.fillna(0).min(axis=1)
    smallest = out["district_code"].map(counts).fillna(min(
        (pooled["round"] == a).sum(), (pooled["round"] == b).sum()))
    out["n"] = smallest.astype("int64")
    figures = [c for c in out.columns if c not in ("from", "to", "indicator", "district_code", "n")
               and out[c].dtype.kind == "f"]
    return suppress_small(out, min_n=min_n, columns=figures)
