"""What approved plans recorded: for the reports' weights (``server.reports.data``) and design lines
(``server.reports.plans``), and for the progress view."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import next_round
from server.models import RoundPlan
from server.models import User
from server.models.plans import RoundPlanCommune


def approved_frames(session: Session) -> dict[int, pd.DataFrame]:
    """``{year: Plan.frame}`` of every round drawn by an approved plan (for ``design_columns``)."""
    rows = session.scalars(select(RoundPlan).where(RoundPlan.status == "approved"))
    return {row.year: next_round.Plan.from_json(row.plan).frame for row in rows}


def approved(session: Session, year: int) -> RoundPlan | None:
    """The approved plan of round ``year``, if any."""
    return session.scalar(select(RoundPlan).where(RoundPlan.year == year, RoundPlan.status == "approved"))


def approved_round_plans(session: Session) -> dict[int, dict]:
    """Approved sample plans by year: when, by whom (their role), how many communes they selected."""
    rows = session.execute(
        select(RoundPlan.year, RoundPlan.approved_at, User.role, func.count(RoundPlanCommune.id))
        .join(User, User.id == RoundPlan.approved_by_user_id, isouter=True)
        .join(RoundPlanCommune, RoundPlanCommune.round_plan_id == RoundPlan.id, isouter=True)
        .where(RoundPlan.status == "approved")
        .group_by(RoundPlan.id, RoundPlan.year, RoundPlan.approved_at, User.role))
    return {int(year): {"kind": "planned", "approved_on": approved_at.date(), "role": role, "communes": count}
            for year, approved_at, role, count in rows}
