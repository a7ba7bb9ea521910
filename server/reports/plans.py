"""What the report says about plans: each round's design, and the approved outreach plan beside what was done.

A round drawn from an approved sample plan (``server.plans``) is described from that plan: when it was
approved, by whom (their role) and how many communes it selected. Every other round is described by the
fixed design its respondents show (:func:`analysis.report_plans.fixed_designs`).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import tidy
from analysis.outreach_plan import COMPARE_COLUMNS
from analysis.outreach_plan import compare_outreach
from analysis.report_plans import OutreachReview
from analysis.report_plans import fixed_designs
from server.models import OutreachPlan


def round_designs(round_plans: dict[int, dict], respondents: pd.DataFrame) -> dict[int, dict]:
    """Each round's design: the approved sample plan's record
    (:func:`server.plans.frames.approved_round_plans`), else the fixed design the respondents show."""
    designs = fixed_designs(respondents) if len(respondents) else {}
    designs.update(round_plans)
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


#: The 12 November report's table of the approved outreach plan against what was done: the comparison's
#: columns, then when and by whom (a role) the plan was approved. No rows: no plan was approved for the year.
REVIEW_COLUMNS = (*COMPARE_COLUMNS, "approved_on", "approved_by")


def review_frame(review: OutreachReview) -> pd.DataFrame:
    """``review`` as one table (:data:`REVIEW_COLUMNS`); target groups as space-separated codes, as ODK writes
    a select_multiple, so that a CSV of codes holds them as text an analyst can split."""
    if review.comparison is None:
        return pd.DataFrame({column: [] for column in REVIEW_COLUMNS})
    comparison = review.comparison
    return comparison.assign(groups_planned=comparison["groups_planned"].map(" ".join),
                             groups_reached=comparison["groups_reached"].map(" ".join),
                             approved_on=review.approved_on.isoformat(), approved_by=review.approved_by)
