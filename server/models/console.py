"""What the console reads from each submission's answers, kept as columns so its lists filter in SQL.

A submission's district, commune and round live inside its answers (at any depth), which no query
can reach the same way on SQLite and PostgreSQL. ``server.console.places`` copies them here, keyed
by the submission, with the head's ``seq`` they were read at: a row whose ``seq`` differs from the
head's is stale and is read again before the next list.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from server.extensions import db
from server.models.types import UTCDateTime


class SubmissionPlace(db.Model):
    """One submission's place, round and first receipt, as read from its head revision."""

    __tablename__ = "submission_places"
    __table_args__ = (Index("ix_submission_places_district_round", "district", "round"),)

    submission_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The head's seq when this row was read; a different seq on the head means read it again.
    seq: Mapped[int] = mapped_column(BigInteger)
    district: Mapped[str | None] = mapped_column(String(100))
    commune: Mapped[str | None] = mapped_column(String(100))
    round: Mapped[int | None]
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The UTC day of first receipt as text: grouping by day is then the same SQL on both databases.
    received_day: Mapped[str] = mapped_column(String(10), index=True)
