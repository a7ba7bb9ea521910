"""Outreach plans: for a coming year, per district, the channels that reach target groups, and where."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from server.extensions import db
from server.models.types import JsonDocument
from server.models.types import UTCDateTime
from server.models.types import utcnow

PLAN_STATUSES = ("draft", "approved")


class OutreachPlan(db.Model):
    """The outreach plan of one year: a draft proposed from a survey round, edited, then approved (frozen)."""

    __tablename__ = "outreach_plans"
    __table_args__ = (CheckConstraint("status IN ('draft', 'approved')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # One plan per year: the report compares "the" approved plan of a year with what was done.
    year: Mapped[int] = mapped_column(unique=True)
    # The survey round whose estimates the proposal was built from (None: written by hand).
    source_round: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(10), default="draft")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    approved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The approver's role when approving: the report says "approved by a planner" even if roles change.
    approved_role: Mapped[str | None] = mapped_column(String(20))

    rows: Mapped[list[OutreachPlanRow]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="OutreachPlanRow.id")


class OutreachPlanRow(db.Model):
    """One line of a plan: in a district, reach a target group through a channel in these communes."""

    __tablename__ = "outreach_plan_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("outreach_plans.id", ondelete="CASCADE"), index=True)
    district_code: Mapped[str] = mapped_column(String(16))
    target_group: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(40))
    # census commune keys (strings), where the gaps are
    communes: Mapped[list] = mapped_column(JsonDocument, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    reason_vi: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[OutreachPlan] = relationship(back_populates="rows")
