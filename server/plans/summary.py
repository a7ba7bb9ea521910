"""A stored plan as plain values: what the API answers, the console shows and the CLI prints."""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console.scope import Scope
from server.models import RoundPlan
from server.models import User
from server.plans import proposals


def _value(x):
    """A JSON-ready scalar: NaN and NA as None, numpy numbers as Python numbers."""
    if x is None:
        return None
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and math.isnan(x):
        return None
    try:
        if x != x:  # pandas.NA and friends
            return None
    except TypeError:
        return None
    return x


def _when(value):
    return value.isoformat() if value else None


def describe(session: Session, row: RoundPlan, scope: Scope | None = None) -> dict:
    """The plan: its parameters, the selected communes with reasons, takes, pi and enumerators, the
    districts' interviews, and the expected gain (before and after, ``analysis.next_round.Plan.gain``).

    A coordinator's ``scope`` names the enumerators of their districts only, as the console does."""
    plan = proposals.restored(row)
    ids = {row.proposed_by_user_id, row.approved_by_user_id, *(c.enumerator_id for c in row.communes)}
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(ids - {None}))).all())
    frame = plan.frame.set_index(plan.frame["commune_key"].astype(str))
    gains = {(str(r.measure), str(r.place)): (_value(r.before), _value(r.after))
             for r in plan.gain.itertuples() if r.level == "commune"}
    communes = []
    for line in sorted(row.communes, key=lambda c: (c.commune.district.code, c.commune.name)):
        found = frame.loc[line.commune.key] if line.commune.key in frame.index else {}
        communes.append({
            "commune": line.commune.key, "name": line.commune.name, "district": line.commune.district.code,
            "district_name": line.commune.district.name, "pi": line.pi, "certainty": line.certainty,
            "take": line.take, "enumerator": names.get(line.enumerator_id)
            if scope is None or scope.sees_district(line.commune.district.code) else None,
            "reason": str(_value(found.get("reason")) or ""),
            "reason_vi": str(_value(found.get("reason_vi")) or ""),
            "tier": _value(found.get("tier")), "p_top_k": _value(found.get("p_top_k")),
            "adults": _value(found.get("adults")),
            "width": gains.get(("width", line.commune.key), (None, None)),
            "wrong_tier": gains.get(("wrong_tier", line.commune.key), (None, None))})
    districts = [{"district": str(r.district_code), "communes": int(r.communes),
                  "interviews": int(r.interviews)} for r in plan.districts.itertuples()]
    gain = [{"measure": str(r.measure), "place": str(r.place), "level": str(r.level),
             "before": _value(r.before), "after": _value(r.after)} for r in plan.gain.itertuples()]
    return {"id": row.id, "year": row.year, "based_on": row.based_on, "status": row.status,
            "notes": row.notes,
            "proposed_by": names.get(row.proposed_by_user_id), "proposed_at": _when(row.proposed_at),
            "approved_by": names.get(row.approved_by_user_id), "approved_at": _when(row.approved_at),
            "superseded_at": _when(row.superseded_at), "parameters": dict(row.parameters),
            "interviews": sum(c["take"] for c in communes), "communes": communes, "districts": districts,
            "gain": gain}


def brief(row: RoundPlan) -> dict:
    """One line of a list of plans."""
    return {"id": row.id, "year": row.year, "status": row.status, "based_on": row.based_on,
            "interviews": row.parameters.get("interviews"), "proposed_at": _when(row.proposed_at),
            "approved_at": _when(row.approved_at)}
