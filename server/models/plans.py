"""Round plans: the next round's sample as proposed from the last round's uncertainty, edited and approved.

The plan itself (every census commune's inclusion probability, take and reason, and the expected gain) is
kept whole as ``analysis.next_round.Plan.to_json()``, so the draw can be shown and repeated exactly; the
selected communes are also rows (``RoundPlanCommune``) because SQL needs them: the progress view, the
enumerator each commune goes to, and the assignments made at approval.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from server.extensions import db
from server.models.places import Commune
from server.models.types import JsonDocument
from server.models.types import UTCDateTime
from server.models.types import utcnow

PLAN_STATUSES = ("draft", "approved", "superseded")
_APPROVED = text("status = 'approved'")


class RoundPlan(db.Model):
    """One proposal for a survey round's sample; a round has at most one approved plan at a time."""

    __tablename__ = "round_plans"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'approved', 'superseded')", name="status"),
        # Approving another plan of the round supersedes this one first: two approved plans would
        # give the same respondents two sets of inclusion probabilities.
        Index("uq_round_plans_approved_year", "year", unique=True, sqlite_where=_APPROVED,
              postgresql_where=_APPROVED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    # the round whose estimates the plan was built from (None: no round had respondents yet)
    based_on: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(12), default="draft")
    # analysis.next_round.Plan.to_json(): restored exactly by Plan.from_json
    plan: Mapped[dict] = mapped_column(JsonDocument)
    # what the planner chose: interviews, communes (capacity), certain, takes, seed, reached
    parameters: Mapped[dict] = mapped_column(JsonDocument)
    notes: Mapped[str] = mapped_column(Text, default="")
    proposed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    approved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    communes: Mapped[list[RoundPlanCommune]] = relationship(
        back_populates="round_plan", cascade="all, delete-orphan", order_by="RoundPlanCommune.id")


class RoundPlanCommune(db.Model):
    """A commune the plan selected: its recorded inclusion probability, its take and who goes there."""

    __tablename__ = "round_plan_communes"
    __table_args__ = (
        UniqueConstraint("round_plan_id", "commune_id", name="uq_round_plan_communes_plan_commune"),
        CheckConstraint("take >= 1", name="take"),
        CheckConstraint("pi > 0 AND pi <= 1", name="pi"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_plan_id: Mapped[int] = mapped_column(ForeignKey("round_plans.id"))
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    pi: Mapped[float]
    certainty: Mapped[bool] = mapped_column(default=False)
    take: Mapped[int]
    # the enumerator the commune goes to at approval (None: not chosen yet; approval needs one)
    enumerator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    round_plan: Mapped[RoundPlan] = relationship(back_populates="communes")
    commune: Mapped[Commune] = relationship()
