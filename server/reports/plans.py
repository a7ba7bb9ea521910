"""What the report says about plans: each round's design, and the approved outreach plan beside what was done.

A round drawn from an approved sample plan is described from the ``round_plans`` table (the round plans'
migration): when it approved, by whom (their role) and how many communes it selected. Until that table
exists every round is described by the fixed design its respondents show (:func:`analysis.report_plans.
fixed_designs`), so the report reads the same with or without sample plans.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import tidy
from analysis.outreach_plan import compare_outreach
from analysis.report_plans import OutreachReview
from analysis.report_plans import fixed_designs
from server.models import OutreachPlan

_APPROVED_ROUND_PLANS = """
SELECT p.year, p.approved_at, u.role, {communes} AS communes
FROM round_plans p LEFT JOIN users u ON u.id = p.approved_by_user_id
WHERE p.status = 'approved'
"""
_COUNT_COMMUNES = "(SELECT count(*) FROM round_plan_communes c WHERE c.round_plan_id = p.id)"


def approved_round_plans(session: Session) -> dict[int, dict]:
    """Approved sample plans by year, read only where the round plans' tables exist."""
    tables = set(sa.inspect(session.connection()).get_table_names())  # in the session: one lock
    if "round_plans" not in tables:
        return {}
    communes = _COUNT_COMMUNES if "round_plan_communes" in tables else "NULL"
    found = {}
    for year, approved_at, role, count in session.execute(sa.text(_APPROVED_ROUND_PLANS.format(
            communes=communes))):
        day = approved_at.date() if hasattr(approved_at, "date") else str(approved_at)[:10]
        found[int(year)] = {"kind": "planned", "approved_on": day, "role": role, "communes": count}
    return found


def round_designs(round_plans: dict[int, dict], respondents: pd.DataFrame) -> dict[int, dict]:
    """Each round's design: the approved sample plan's record (:func:`approved_round_plans`), else the fixed
    design the respondents show."""
    designs = fixed_designs(respondents) if len(respondents) else {}
    for year, planned in round_plans.items():
        planned = dict(planned)
        if planned["communes"] is None and year in designs:
            planned["communes"] = int(respondents.loc[respondents["round"] == year, "commune_key"].nunique())
        designs[year] = planned
    return designs


def approved_outreach(session: Session) -> dict[int, tuple]:
    """Approved outreach plans by year: (rows as a frame, approved on, the approver's role)."""
    found = {}
    for plan in session.scalars(select(OutreachPlan).where(OutreachPlan.status == "approved")):
        frame = pd.DataFrame([{"district_code": r.district_code, "group": r.target_group,
                               "channel": r.channel, "communes": tuple(r.communes)} for r in plan.rows],
                             columns=["district_code", "group", "channel", "communes"])
        found[plan.year] = (frame, plan.approved_at.date(), plan.approved_role)
    return found


def outreach_review(plans: dict[int, tuple], activities: pd.DataFrame, year: int) -> OutreachReview:
    """The approved outreach plan of ``year`` beside that year's activities (no plan: the review says so)."""
    if year not in plans:
        return OutreachReview(year)
    frame, approved_on, role = plans[year]
    if activities.empty:
        activities = tidy.activities(pd.DataFrame({"submission_id": [], "answers": []}))
    return OutreachReview(year, compare_outreach(frame, activities, year=year), approved_on=approved_on,
                          approved_by=role)
