"""Survey rounds: the 2017 baseline and the yearly follow-ups."""

from __future__ import annotations

from sqlalchemy import CheckConstraint
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from server.extensions import db


class Round(db.Model):
    """One survey round, identified by its year."""

    __tablename__ = "rounds"
    __table_args__ = (CheckConstraint("kind IN ('baseline', 'follow-up')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
