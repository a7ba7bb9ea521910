"""What approved plans recorded, for the reports' weights (``server.reports.data``) and the progress view."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import next_round
from server.models import RoundPlan


def approved_frames(session: Session) -> dict[int, pd.DataFrame]:
    """``{year: Plan.frame}`` of every round drawn by an approved plan (for ``design_columns``)."""
    rows = session.scalars(select(RoundPlan).where(RoundPlan.status == "approved"))
    return {row.year: next_round.Plan.from_json(row.plan).frame for row in rows}


def approved(session: Session, year: int) -> RoundPlan | None:
    """The approved plan of round ``year``, if any."""
    return session.scalar(select(RoundPlan).where(RoundPlan.year == year, RoundPlan.status == "approved"))
