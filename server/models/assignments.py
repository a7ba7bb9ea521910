"""Assignments: which communes an enumerator covers in a survey round, and how many interviews."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from server.extensions import db
from server.models.places import Commune
from server.models.rounds import Round
from server.models.types import UTCDateTime
from server.models.types import utcnow


class Assignment(db.Model):
    """One commune an enumerator covers in one round, with the number of interviews expected there."""

    __tablename__ = "assignments"
    __table_args__ = (
        # One row per commune and round: a quota is changed in place, never counted twice.
        UniqueConstraint("user_id", "round_id", "commune_id", name="uq_assignments_user_round_commune"),
        CheckConstraint("quota >= 1", name="quota"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No separate index on user_id: the unique constraint leads with it.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    quota: Mapped[int]
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    round: Mapped[Round] = relationship()
    commune: Mapped[Commune] = relationship()
