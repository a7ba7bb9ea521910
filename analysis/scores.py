"""Scores of a respondent: knowledge (overall, per domain), warning signs, hotline, risk index, reach.

Definitions
-----------
Knowledge
    The knowledge items are the form's scoring items whose domain starts with
    ``knowledge``. Each item is put on [0, 1] as ``points / max_points`` (so the
    select-all "where to report" item, worth up to 5 points, counts as one item). A domain
    score (``knowledge_signs``, ``knowledge_law``, ...) is the mean over the domain's items;
    the overall ``knowledge`` is the mean over all knowledge items (``weighting="item"``,
    the default) or total points over total max points (``weighting="points"``). "Don't
    know" scores 0 (it is not knowing, as in the DHS composite indicators); a missing item
    makes the scores that use it missing.
Warning signs (the IndiKit headline)
    ``signs_known`` is the number of ``knowledge.signs`` items answered correctly (0..N,
    N = 4 in form 2017.1); ``aware_signs_X`` is ``signs_known >= X`` ("% aware of at
    least X of the N warning signs").
Hotline
    ``hotline_aware``: names 1800 1567 when asked for the number (item ``hotline``).
Risk index (INFORM pattern, dimensions kept as columns)
    Three dimensions on [0, 1], each the mean of its indicators (:data:`RISK_DIMENSIONS`):
    ``risk_exposure`` (hazard & exposure: plans to migrate, approached by a broker, knows
    someone who left and lost contact), ``risk_vulnerability`` (would use an informal
    broker, would hand over papers, family debt) and ``risk_coping_gap`` (lack of coping
    capacity: 1 minus the mean of the respond, hotline and report knowledge scores).
    ``risk_index`` is their geometric mean, as INFORM combines its dimensions: risk needs
    hazard, vulnerability *and* lack of coping together, so a zero dimension gives zero risk.
    ``at_risk`` is ``risk_index >= 1/3`` (:data:`AT_RISK_THRESHOLD`): at the smallest,
    one indicator in three present in every dimension.
Channel reach
    ``reached_any``: heard anything about trafficking in the last 12 months
    (``heard_any``); per channel the ``channels_<name>`` booleans of the tidy frame (False
    when nothing was heard).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._taylor import require_columns
from analysis.errors import ColumnMissing
from analysis.errors import VariableInvalid

__all__ = [
    "AT_RISK_THRESHOLD",
    "RISK_DIMENSIONS",
    "add_scores",
    "knowledge_items",
    "knowledge_scores",
    "signs_known",
    "aware_of_at_least",
    "hotline_aware",
    "risk_scores",
]

#: Risk dimension → (indicator columns, inverted?). Inverted indicators enter as 1 - value.
RISK_DIMENSIONS = {
    "risk_exposure": (("plans_migrate", "risk_approached", "risk_lost_contact"), False),
    "risk_vulnerability": (("risk_broker", "risk_papers", "risk_debt"), False),
    "risk_coping_gap": (("knowledge_respond", "knowledge_hotline", "knowledge_report"), True),
}
AT_RISK_THRESHOLD = 1 / 3
# a geometric mean of thirds lands a hair below 1/3 in floating point
_TOLERANCE = 1e-9


def knowledge_items(form) -> list:
    """The form's scoring items whose domain starts with ``knowledge``."""
    items = [item for item in form.scoring if item.domain.split(".")[0] == "knowledge"]
    if not items:
        raise VariableInvalid(f"form {form.form_id!r} has no knowledge scoring items")
    return items


def _fraction(frame: pd.DataFrame, item) -> pd.Series:
    require_columns(frame, [item.name])
    if not np.isfinite(item.max_points) or item.max_points <= 0:
        raise VariableInvalid(f"knowledge item {item.name!r} has no maximum ({item.method})")
    return frame[item.name].astype("float64") / item.max_points


def _mean_skipna_false(parts: list[pd.Series]) -> pd.Series:
    """Row mean that is NaN when any part is NaN (a missing item makes the score missing)."""
    return pd.concat(parts, axis=1).mean(axis=1, skipna=False)


def knowledge_scores(frame, form, *, weighting="item") -> pd.DataFrame:
    """``knowledge`` and one ``knowledge_<domain>`` column per knowledge domain, on [0, 1]."""
    if weighting not in ("item", "points"):
        raise VariableInvalid(f"weighting must be 'item' or 'points', got {weighting!r}")
    items = knowledge_items(form)
    out = pd.DataFrame(index=frame.index)
    domains: dict[str, list] = {}
    for item in items:
        domains.setdefault(item.domain, []).append(item)
    for domain, members in domains.items():
        name = "knowledge_" + (domain.split(".", 1)[1] if "." in domain else "other")
        out[name] = _mean_skipna_false([_fraction(frame, i) for i in members])
    if weighting == "item":
        overall = _mean_skipna_false([_fraction(frame, i) for i in items])
    else:
        points = pd.concat([frame[i.name].astype("float64") for i in items], axis=1).sum(
            axis=1, skipna=False)
        overall = points / sum(i.max_points for i in items)
    out.insert(0, "knowledge", overall)
    return out


def _sign_items(form) -> list:
    items = [i for i in form.scoring if i.domain == "knowledge.signs"]
    if not items:
        raise VariableInvalid(f"form {form.form_id!r} has no knowledge.signs items")
    return items


def signs_known(frame, form) -> pd.Series:
    """Number of warning signs recognised (NaN when a sign item is missing)."""
    items = _sign_items(form)
    require_columns(frame, [i.name for i in items])
    return pd.concat([frame[i.name].astype("float64") for i in items], axis=1).sum(axis=1, skipna=False)


def aware_of_at_least(frame, form, x) -> pd.Series:
    """Boolean (nullable): recognises at least ``x`` of the N warning signs."""
    n = len(_sign_items(form))
    if not (isinstance(x, (int, np.integer)) and 1 <= x <= n):
        raise VariableInvalid(f"x must be an integer from 1 to {n} (the number of signs), got {x!r}")
    known = signs_known(frame, form)
    return (known >= x).astype("boolean").where(known.notna(), pd.NA)


def hotline_aware(frame, *, item="hotline") -> pd.Series:
    """Boolean (nullable): knows the hotline number 1800 1567."""
    require_columns(frame, [item])
    points = frame[item].astype("float64")
    return (points >= 1).astype("boolean").where(points.notna(), pd.NA)


def _yes(frame, column):
    values = frame[column]
    return pd.Series(np.where(values.isna(), np.nan, (values == "yes").astype("float64")),
                     index=frame.index)


def risk_scores(frame, *, dimensions=None, threshold=AT_RISK_THRESHOLD) -> pd.DataFrame:
    """Risk dimensions, the geometric-mean ``risk_index`` and ``at_risk`` (see module docstring).

    ``dimensions`` maps a dimension column to ``(indicator columns, inverted)``; indicators
    absent from the frame are left out of their dimension (a form version without them);
    a dimension with no indicator at all raises ``ColumnMissing``.
    """
    dimensions = RISK_DIMENSIONS if dimensions is None else dimensions
    out = pd.DataFrame(index=frame.index)
    for name, (columns, inverted) in dimensions.items():
        present = [c for c in columns if c in frame.columns]
        if not present:
            raise ColumnMissing(f"risk dimension {name!r} has none of its columns {list(columns)}",
                                columns=list(columns))
        values = pd.concat([frame[c].astype("float64") for c in present], axis=1)
        if ((values < 0) | (values > 1)).any().any():
            raise VariableInvalid(f"risk indicators of {name!r} must lie in [0, 1]")
        dim = values.mean(axis=1, skipna=False)
        out[name] = 1 - dim if inverted else dim
    index = np.exp(np.log(out.clip(lower=1e-300)).mean(axis=1, skipna=False))
    index = index.where((out > 0).all(axis=1), 0.0).where(out.notna().all(axis=1))
    out["risk_index"] = index
    out["at_risk"] = (index >= threshold - _TOLERANCE).astype("boolean").where(index.notna(), pd.NA)
    return out


def add_scores(frame, form, *, signs_at_least=3, weighting="item") -> pd.DataFrame:
    """Append knowledge, signs, hotline, risk and reach columns to a tidy respondent frame."""
    out = frame.copy(deep=False)  # copy-on-write (pandas 3): new columns leave ``frame`` as it was
    for column, values in knowledge_scores(out, form, weighting=weighting).items():
        out[column] = values
    out["signs_known"] = signs_known(out, form)
    out[f"aware_signs_{signs_at_least}"] = aware_of_at_least(out, form, signs_at_least)
    if "hotline" in out.columns:
        out["hotline_aware"] = hotline_aware(out)
    if {"plan_away", "plan_abroad"} <= set(out.columns):
        plans = pd.concat([_yes(out, "plan_away"), _yes(out, "plan_abroad")], axis=1)
        out["plans_migrate"] = plans.max(axis=1, skipna=False)
    for column, values in risk_scores(out).items():
        out[column] = values
    if "heard_any" in out.columns:
        out["reached_any"] = (out["heard_any"] == "yes").astype("boolean").where(
            out["heard_any"].notna(), pd.NA)
    return out
