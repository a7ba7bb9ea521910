"""A planned round against the fixed design on one generated season (shared by the bench and the tests).

One seed (``compare``): a season of ``ROUNDS`` with the fixed design (4 communes per district, the
round's interviews split equally) is taken through the product's path (tidy → ``design_columns`` →
weights); the last round before the planned one (``LAST``) is ranked, the next round is planned from it
(:func:`analysis.next_round.propose`, ``reached`` = communes with commune-level outreach dated after
``LAST`` up to ``PLANNED``, known to the planner before that round's fieldwork), and the planned round
``PLANNED`` is drawn twice from the same population (``generate(..., designs=...)``): once by the fixed
design, once by the plan, with the same interviews and the same visits per district. Each version goes
through the reports' own code (:func:`analysis.gap_report.build_gap_report` of ``PLANNED``, previous =
``LAST``) and is compared with ``season.truth``.

The ranking. The generator has no truth for the share at risk, so, as ``tests/bench/bench_priority.py``
does, need is ranked on knowledge alone (``risk`` = 1 without error) by
:func:`analysis.priority.rank_by_need`, both for the plan's input (the last round's P(top k)) and for
the planned round's tiers; the true top k are the communes with the largest
``adults × discount × (1 − true knowledge)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.gap_report import HEADLINE
from analysis.gap_report import build_gap_report
from analysis.next_round import PlanParameters
from analysis.next_round import design_columns
from analysis.next_round import propose
from analysis.priority import NeedParameters
from analysis.priority import rank_by_need
from analysis.simulation import generate
from analysis.tidy import exposure as tidy_exposure
from analysis.tidy import respondents
from analysis.tidy import response_counts
from analysis.weights import design_weights
from tests.analysis.recovery import _forms
from tests.analysis.recovery import activities
from tests.analysis.recovery import did_targets
from tests.analysis.recovery import group_cells
from tests.analysis.recovery import level_cells
from tests.analysis.recovery import reached_since

ROUNDS = (2017, 2018, 2019)
LAST, PLANNED = 2018, 2019
K = 10
#: A commune's tier counted as uncertain in the last round: P(top k) in this range.
UNCERTAIN = (0.1, 0.9)


def weighted(season, plans) -> pd.DataFrame:
    """Respondents with the recorded design of ``plans`` and the product's weights."""
    awareness, _ = _forms()
    subs = season.submissions()
    return design_weights(design_columns(respondents(subs, awareness), plans), counts=response_counts(subs),
                          calibrate=True)


def ranked(places: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Communes ranked on knowledge alone (risk = 1 without error; see the module docstring)."""
    gap = places.assign(risk=1.0, risk_se=0.0)
    if "risk_df" in gap.columns:
        gap["risk_df"] = np.nan
    return rank_by_need(gap, k=K, params=NeedParameters(min_n=1), seed=seed, level="commune")


def _commune_places(frame, acts, year):
    from analysis.priority import place_estimates

    exposure = tidy_exposure(acts, rounds=[r for r in ROUNDS if r <= year])
    return place_estimates(frame, exposure, year=year, level="commune", params=NeedParameters(min_n=1))


def plan_for(season, frame, acts, seed, tuning=None):
    """The plan of ``PLANNED`` from the ranking of ``LAST`` (``tuning``: PlanParameters fields), the
    last round's ranking and the communes reached since it."""
    last = ranked(_commune_places(frame, acts, LAST), seed)
    reached = reached_since(acts, LAST, PLANNED, last)
    interviews = int((season.sample["round"] == PLANNED).sum())
    params = PlanParameters(interviews=interviews, seed=seed, **(tuning or {}))
    return propose(last, year=PLANNED, params=params, reached=reached), last, reached


def _version(season, frame, acts, last, reached, seed, design) -> dict:
    report = build_gap_report(frame, acts, year=PLANNED, previous=LAST, min_n=1, seed=seed)
    cells = pd.concat([level_cells(season, report), group_cells(season, report)], ignore_index=True)
    cells = cells[(cells["round"] == PLANNED)]
    places = ranked(report.priorities, seed)
    true = season.truth["commune"]
    true = true[true["round"] == PLANNED].set_index("commune_key")["knowledge"]
    places["truth"] = places["commune_key"].map(true)
    places["true_need"] = places["population"] * places["discount"] * (1 - places["truth"])
    places["true_top"] = places["true_need"].rank(ascending=False, method="first") <= K
    p_last = last.set_index("commune_key")["p_top_k"]
    places["p_last"] = places["commune_key"].map(p_last)
    places["uncertain"] = places["p_last"].between(*UNCERTAIN)
    places["width"] = places["knowledge_high"] - places["knowledge_low"]
    places["covered"] = places["truth"].between(places["knowledge_low"], places["knowledge_high"])
    did = report.did[report.did["model"] == "unadjusted"] if len(report.did) else report.did
    did_row = {}
    if len(did) and reached:
        # the design-based DiD estimates the effect over every reached commune's population
        target = did_targets(season, set(reached), LAST, PLANNED)
        r = did.iloc[0]
        did_row = {"estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                   "width": r["ci_high"] - r["ci_low"], "truth": target["effect"],
                   "covered": r["ci_low"] <= target["effect"] <= r["ci_high"],
                   "communes_reached": int(r["communes_reached"])}
    keep = ["commune_key", "tier", "p_top_k", "true_top", "p_last", "uncertain", "width", "covered", "truth",
            "knowledge", "n", "source"]
    return {"cells": cells.assign(design=design, seed=seed),
            "communes": places[keep].assign(design=design, seed=seed),
            "did": pd.DataFrame([did_row]).assign(design=design, seed=seed) if did_row else pd.DataFrame()}


def compare(seed: int, interviews: int = 6000, tuning=None) -> dict[str, pd.DataFrame]:
    """Cells, communes and DiD of the planned round under the fixed design and under the plan (one seed)."""
    fixed = generate(seed=seed, interviews=interviews, rounds=ROUNDS)
    acts = activities(fixed)
    frame = weighted(fixed, {})
    plan, last, reached = plan_for(fixed, frame, acts, seed, tuning)
    planned = generate(seed=seed, interviews=interviews, rounds=ROUNDS, designs={PLANNED: plan.frame})
    planned_frame = weighted(planned, {PLANNED: plan.frame})
    parts = [_version(fixed, frame, acts, last, reached, seed, "fixed"),
             _version(planned, planned_frame, acts, last, reached, seed, "planned")]
    out = {name: pd.concat([p[name] for p in parts], ignore_index=True) for name in parts[0]}
    out["plan"] = plan.frame.assign(seed=seed)
    out["headline"] = list(HEADLINE)
    return out


#: The tables ``compare`` and ``run`` return.
TABLES = ("cells", "communes", "did", "plan")


def run(seeds, interviews: int = 6000, tuning=None) -> dict[str, pd.DataFrame]:
    """``compare`` over ``seeds`` (``tuning``: PlanParameters fields), tables concatenated."""
    parts = [compare(s, interviews, tuning) for s in seeds]
    return {name: pd.concat([p[name] for p in parts], ignore_index=True) for name in TABLES}
