"""Submissions (stored exactly once), quarantined submissions, and the server sequence."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Uuid
from sqlalchemy import update
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from ..extensions import db
from .types import JsonDocument
from .types import UTCDateTime
from .types import utcnow


class Counter(db.Model):
    """A named, serialised counter: the row lock makes commit order equal sequence order."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


def next_seq(session: Session, name: str = "changes") -> int:
    """Return the next value of counter ``name`` inside the caller's transaction.

    A database sequence would hand out numbers in start order, not commit order, so a reader
    could move its cursor past a write that commits later; the row lock here prevents that.
    """
    result = session.execute(
        update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one_or_none()
    if result is None:
        session.add(Counter(name=name, value=1))
        session.flush()
        return 1
    return result


class Submission(db.Model):
    """One completed interview or activity record, keyed by the id its device generated."""

    __tablename__ = "submissions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("communes.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True)
    answers: Mapped[dict] = mapped_column(JsonDocument)
    # The device's clock is data, never an ordering key: phones in the field have wrong clocks.
    device_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)


class QuarantinedSubmission(db.Model):
    """A submission that reached the server but could not be accepted, kept whole with its reasons."""

    __tablename__ = "quarantined_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The client's id when one could be read; the raw payload is kept either way.
    submission_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    form_id: Mapped[str | None] = mapped_column(String(100))
    form_version: Mapped[str | None] = mapped_column(String(100))
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(60))
    issues: Mapped[list] = mapped_column(JsonDocument, default=list)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
